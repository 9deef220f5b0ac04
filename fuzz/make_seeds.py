#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ (standard library only).

Seeds are small valid files of each format, so the fuzzer starts from inputs that reach deep
into the parsers instead of rediscovering magic numbers. Tokens are synthetic.
"""
import base64, gzip, io, json, os, pickle, struct, tarfile, zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
TOKEN = "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"


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def zip_of(members, compression=zipfile.ZIP_DEFLATED, comment=b""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
        z.comment = comment
    return buf.getvalue()


def gguf(pairs, version=3, big=False):
    e = ">" if big else "<"
    out = b"GGUF" + struct.pack(e + "IQQ", version, 0, len(pairs))
    s = lambda t: struct.pack(e + "Q", len(t)) + t.encode()
    for key, value in pairs:
        out += s(key)
        if isinstance(value, str):
            out += struct.pack(e + "I", 8) + s(value)
        elif isinstance(value, list):
            out += struct.pack(e + "IIQ", 9, 8, len(value)) + b"".join(s(v) for v in value)
        else:
            out += struct.pack(e + "II", 4, value)
    return out


def safetensors(meta):
    header = json.dumps({"__metadata__": meta, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + b"\0\0\x80\x3f"


obj = {"token": TOKEN, "lr": 0.001, "layers": ["a" * 10, b"bytes-value-here"], "t": (1, 2)}
for proto in range(0, 6):
    put("pickle", f"proto{proto}.pkl", pickle.dumps(obj, protocol=proto))
put("pickle", "legacy.pt", pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2) + pickle.dumps(obj, 2) + b"\0raw")

put("gguf", "v3.gguf", gguf([("general.name", "tiny"), ("general.alignment", 32), ("tokenizer.ggml.tokens", ["<s>", "</s>"]), ("tokenizer.chat_template", "{{ m }} " + TOKEN)]))
put("gguf", "v3be.gguf", gguf([("general.description", "big endian " + TOKEN)], big=True))
put("gguf", "v2.gguf", gguf([("general.url", "https://example.com")], version=2))

put("safetensors", "a.safetensors", safetensors({"format": "pt", "note": TOKEN}))

nb = {"nbformat": 4, "metadata": {"k": "v"}, "cells": [
    {"cell_type": "code", "source": ["x = 1\n", f"t = '{TOKEN}'\n"], "outputs": [
        {"output_type": "stream", "text": ["hi\n"]},
        {"output_type": "execute_result", "data": {"text/plain": "'r'", "image/png": "iVBORw0KGgo="}},
        {"output_type": "error", "traceback": ["Trace", "Err"]}]},
    {"cell_type": "markdown", "source": "# t"}]}
put("notebook", "a.ipynb", json.dumps(nb).encode())
put("notebook", "v3.ipynb", json.dumps({"worksheets": [{"cells": [{"input": "y", "outputs": []}]}]}).encode())

inner = zip_of([("deploy/secrets.yaml", f"token: {TOKEN}\n")])
put("zip_walk", "nested.zip", zip_of([("config/.env", f"T={TOKEN}\n"), ("inner.zip", inner)], comment=b"comment text here"))
put("zip_walk", "stored.zip", zip_of([("a.txt", "hello world, hello world")], zipfile.ZIP_STORED))
put("zip_walk", "torch.pt", zip_of([("archive/data.pkl", pickle.dumps(obj, 2)), ("archive/data/0", b"\0\0\x80\x3f"), ("archive/version", "3\n"), ("nb.ipynb", json.dumps(nb))]))
tar_buf = io.BytesIO()
with tarfile.open(fileobj=tar_buf, mode="w") as t:
    data = f"key = {TOKEN}\n".encode()
    info = tarfile.TarInfo("etc/app.conf"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
put("zip_walk", "tar_in_zip.zip", zip_of([("b.tar.gz", gzip.compress(tar_buf.getvalue())), ("m.safetensors", safetensors({"a": "b"})), ("g.gguf", gguf([("general.name", "x")]))]))

put("encoded", "b64.txt", f"a: {base64.b64encode(f'HF_TOKEN={TOKEN}'.encode()).decode()}\nb: {TOKEN.encode().hex()}\nc: %7B%22k%22%3A%22v%22%7D\n".encode())
put("encoded", "nested.txt", base64.b64encode(base64.b64encode(b"password = hunter2hunter2hunter2")))

def field(n, payload):
    return bytes([n << 3 | 2, len(payload)]) + payload
entry = field(1, b"hf_token") + field(2, TOKEN.encode())
put("protobuf", "model.onnx", b"\x08\x07" + field(2, b"pytorch") + field(6, b"doc string") + field(14, entry) + field(9, b"\0\0\x80\x3f"))
