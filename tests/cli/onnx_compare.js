// tests/cli/onnx_compare.js: run an exported model in onnxruntime-node on the
// test split's images and compare with `hptc eval --predictions`.
//   node onnx_compare.js MODEL.onnx IMAGES.idx[.gz] PREDICTIONS.csv
// The images are fed as hptc reads them, one float per byte (the model
// applies the data's scale); prints the rows, the largest absolute output
// difference, and the accuracy of each side's arg-max against the labels.
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

async function main() {
    const [model, images, predictions] = process.argv.slice(2);
    let raw = fs.readFileSync(images);
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
    if (raw.readUInt32BE(0) !== 0x803) throw new Error(images + ': not an IDX image file');
    const n = raw.readUInt32BE(4), h = raw.readUInt32BE(8), w = raw.readUInt32BE(12);
    const lines = fs.readFileSync(predictions, 'utf8').trim().split('\n').slice(1).map(l => l.split(',').map(Number));
    if (lines.length !== n) throw new Error(`${lines.length} predictions for ${n} images`);
    const session = await ort.InferenceSession.create(model);
    const dims = [n];
    for (const d of session.inputMetadata ? (session.inputMetadata[0] || {}).shape || [] : []) if (typeof d === 'number') dims.push(d);
    if (dims.length === 1) dims.push(h * w);
    const x = new Float32Array(n * h * w);
    for (let i = 0; i < x.length; i++) x[i] = raw[16 + i];
    const out = await session.run({ input: new ort.Tensor('float32', x, dims) });
    const y = out.output.data, K = y.length / n;
    let maxDiff = 0, hitsOnnx = 0, hitsHptc = 0;
    const argmax = (a, off) => { let b = 0; for (let k = 1; k < K; k++) if (a[off + k] > a[off + b]) b = k; return b; };
    for (let i = 0; i < n; i++) {
        const row = lines[i], hptc = row.slice(2);
        for (let k = 0; k < K; k++) maxDiff = Math.max(maxDiff, Math.abs(y[i * K + k] - hptc[k]));
        if (argmax(y, i * K) === row[1]) hitsOnnx++;
        if (argmax(hptc, 0) === row[1]) hitsHptc++;
    }
    console.log(`rows=${n} max_abs_diff=${maxDiff.toExponential(3)} accuracy_onnx=${(hitsOnnx / n).toFixed(4)} accuracy_hptc=${(hitsHptc / n).toFixed(4)}`);
}
main().catch(e => { console.error('onnx_compare: ' + e.message); process.exit(1); });
