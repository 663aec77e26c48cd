"""refs.py: what every reference script here shares: printing a tensor as
the C array a test pastes in.  The scripts import it from their own folder
(sys.path[0] is the script's directory, from any working directory)."""


def c_float(v):
    """v as a C float literal with float's nine significant digits."""
    text = "%.9g" % v
    return text + ("f" if any(ch in text for ch in ".e") else ".0f")


def c_array(name, t):
    """Print the tensor t, flattened, as static const float name[n] = { ... };"""
    vals = ", ".join(c_float(v) for v in t.flatten().tolist())
    print("static const float %s[%d] = { %s };" % (name, t.numel(), vals))
