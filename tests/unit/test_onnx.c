/* test_onnx.c: the protobuf encoding of runtime/nn/onnx.c, byte for byte.
 *
 * tests/cli/onnx.sh has onnx's checker and onnxruntime read whole models;
 * here the wire format itself is pinned down on the attributes a node
 * carries, the one part of the encoder with a public entry: keys (field
 * number << 3 | wire type, a varint past field 15), lengths, a negative
 * int64 as ten bytes of two's complement, a float as four little-endian
 * bytes, repeated fields one key each. */
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/onnx.h"
#include "tests/unit/check.h"

/* Compare the attributes' bytes with `want` (n bytes) and start over. */
static void bytes_are(onnx_attrs *a, const unsigned char *want, size_t n, const char *what)
{
    int same = a->n == n && !a->oom && memcmp(a->p, want, n) == 0;
    CHECK(same, "%s (%zu bytes)", what, a->n);
    if (!same) {
        printf("      got ");
        for (size_t k = 0; k < a->n; k++) printf("%02x ", a->p[k]);
        printf("\n");
    }
    free(a->p);
    *a = (onnx_attrs){ 0 };
}

int main(void)
{
    onnx_attrs a = { 0 };

    /* NodeProto.attribute (5, bytes) { name (1) "axis", type (20) INT = 2, i (3) -1 } */
    onnx_attr_int(&a, "axis", -1);
    static const unsigned char axis[] = { 0x2a, 0x14, 0x0a, 0x04, 'a', 'x', 'i', 's', 0xa0, 0x01, 0x02, 0x18, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    bytes_are(&a, axis, sizeof axis, "an int attribute: field 20's two-byte key, -1 as a ten-byte varint");

    /* { name "epsilon", type FLOAT = 1, f (2, fixed32) 0.001f = 0x3a83126f } */
    onnx_attr_float(&a, "epsilon", 0.001f);
    static const unsigned char eps[] = { 0x2a, 0x11, 0x0a, 0x07, 'e', 'p', 's', 'i', 'l', 'o', 'n', 0xa0, 0x01, 0x01,
                                         0x15, 0x6f, 0x12, 0x83, 0x3a };
    bytes_are(&a, eps, sizeof eps, "a float attribute: four little-endian bytes");

    /* { name "pads", type INTS = 7, ints (8) 0, 1, 300 } */
    onnx_attr_ints(&a, "pads", 3, (const int64_t[]){ 0, 1, 300 });
    static const unsigned char pads[] = { 0x2a, 0x10, 0x0a, 0x04, 'p', 'a', 'd', 's', 0xa0, 0x01, 0x07,
                                          0x40, 0x00, 0x40, 0x01, 0x40, 0xac, 0x02 };
    bytes_are(&a, pads, sizeof pads, "an ints attribute: one key per value, 300 as two varint bytes");

    /* { name "mode", type STRING = 3, s (4) "linear" }, then a second attribute appended */
    onnx_attr_string(&a, "mode", "linear");
    onnx_attr_strings(&a, "activations", 2, (const char *const[]){ "Tanh", "Relu" });
    static const unsigned char strs[] = { 0x2a, 0x11, 0x0a, 0x04, 'm', 'o', 'd', 'e', 0xa0, 0x01, 0x03, 0x22, 0x06,
                                          'l', 'i', 'n', 'e', 'a', 'r',
                                          0x2a, 0x1c, 0x0a, 0x0b, 'a', 'c', 't', 'i', 'v', 'a', 't', 'i', 'o', 'n', 's',
                                          0xa0, 0x01, 0x08, 0x4a, 0x04, 'T', 'a', 'n', 'h', 0x4a, 0x04, 'R', 'e', 'l', 'u' };
    bytes_are(&a, strs, sizeof strs, "string and strings attributes, one after the other");

    /* A name longer than 127 bytes: its length takes two varint bytes, and so does the attribute's. */
    char name[201];
    memset(name, 'n', 200), name[200] = 0;
    onnx_attr_int(&a, name, 1);
    /* inner: name 1 + 2 + 200, type 3, i 2 = 208 (0xd0 0x01); 200 is 0xc8 0x01 */
    CHECK(a.n == 1 + 2 + 208 && a.p[1] == 0xd0 && a.p[2] == 0x01 && a.p[3] == 0x0a && a.p[4] == 0xc8 && a.p[5] == 0x01,
          "lengths past 127 are two-byte varints");
    free(a.p);
    return check_exit();
}
