"""Peer side of `spell bench model`: times the phases spell times, on PyTorch CPU or llama.cpp.

Benchmark-only (never part of npm test). spell starts this script once per peer and sends one JSON
command per line on stdin; each answer is one JSON line on stdout, so spell can interleave its own
runs with the peer's in one session (the machine is shared and noisy: interleaving keeps both
sides under the same load). Token ids are the ones spell uses: (i * 7919) % vocab.

  {"op": "load", "engine": "torch", "model": DIR, "threads": 2}
  {"op": "load", "engine": "llamacpp", "gguf": PATH, "threads": 2, "ctx": N}
  {"op": "f16gguf", "src": GGUF, "dst": GGUF}             (llama.cpp: requantize to F16)
  {"op": "prefill", "T": 512}                             -> {"seconds": s}
  {"op": "decode", "batch": B, "ctx": 1024, "steps": S}   -> {"seconds": s}  (the S steps only)
  {"op": "train", "T": 2048}                              -> {"seconds": s}  (fwd + bwd + AdamW)
  {"op": "group", "prompt": P, "G": G, "answer": A, "shared": bool} -> {"seconds": s}
  {"op": "group_train", "prompt": P, "G": G, "answer": A}   -> {"seconds": s}  (one padded batch
      of G prompt+answer sequences, loss on the answers, fwd + bwd + AdamW)
"""
import json
import sys
import time

STATE = {}


def ids(n, vocab, offset=0):
    return [((i + offset) * 7919) % vocab for i in range(n)]


# ---- PyTorch ----

def torch_load(cmd):
    import torch
    import transformers

    torch.set_num_threads(int(cmd.get("threads", 2)))
    model = transformers.AutoModelForCausalLM.from_pretrained(cmd["model"], torch_dtype=torch.float32)
    model.eval()
    STATE.update(engine="torch", torch=torch, model=model, vocab=model.config.vocab_size)
    return {"ok": True, "version": f"torch {torch.__version__}, transformers {transformers.__version__}",
            "threads": torch.get_num_threads(), "attn": model.config._attn_implementation}


def torch_prefill_cache(T, offset=0):
    torch, model = STATE["torch"], STATE["model"]
    x = torch.tensor([ids(T, STATE["vocab"], offset)])
    out = model(x, use_cache=True, logits_to_keep=1)
    return out.past_key_values, out.logits[:, -1, :].argmax(-1, keepdim=True)


def torch_decode_steps(cache, nxt, steps):
    model = STATE["model"]
    for _ in range(steps):
        out = model(nxt, past_key_values=cache, use_cache=True)
        nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
        cache = out.past_key_values
    return cache


def torch_op(cmd):
    torch, model = STATE["torch"], STATE["model"]
    op = cmd["op"]
    if op == "train":
        model.train()
        opt = STATE.get("opt") or torch.optim.AdamW(model.parameters(), lr=1e-6)
        STATE["opt"] = opt
        x = torch.tensor([ids(cmd["T"] + 1, STATE["vocab"])])
        t0 = time.perf_counter()
        loss = model(x[:, :-1], labels=x[:, :-1]).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        model.eval()
        return {"seconds": dt, "loss": float(loss)}
    if op == "group_train":
        # spell's bench datums: the prompt ids(P), then answer i is ids(A + 1, offset 1000·(i+1))
        model.train()
        opt = STATE.get("opt") or torch.optim.AdamW(model.parameters(), lr=1e-6)
        STATE["opt"] = opt
        P, G, A, V = cmd["prompt"], cmd["G"], cmd["answer"], STATE["vocab"]
        seqs = [ids(P, V) + [((j + 1000 * (i + 1)) * 7919) % V for j in range(A + 1)]
                for i in range(G)]
        x = torch.tensor(seqs)
        labels = x.clone()
        labels[:, :P] = -100
        t0 = time.perf_counter()
        loss = model(x, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        model.eval()
        return {"seconds": dt, "loss": float(loss)}
    with torch.inference_mode():
        if op == "prefill":
            t0 = time.perf_counter()
            torch_prefill_cache(cmd["T"])
            return {"seconds": time.perf_counter() - t0}
        if op == "decode":
            cache, nxt = torch_prefill_cache(cmd["ctx"])
            b = cmd["batch"]
            if b > 1:
                cache.batch_repeat_interleave(b)
                nxt = nxt.repeat(b, 1)
            t0 = time.perf_counter()
            torch_decode_steps(cache, nxt, cmd["steps"])
            return {"seconds": time.perf_counter() - t0}
        if op == "group":
            G, A, P = cmd["G"], cmd["answer"], cmd["prompt"]
            t0 = time.perf_counter()
            if cmd["shared"]:
                cache, nxt = torch_prefill_cache(P)
                cache.batch_repeat_interleave(G)
                torch_decode_steps(cache, nxt.repeat(G, 1), A - 1)
            else:
                for _ in range(G):
                    cache, nxt = torch_prefill_cache(P)
                    torch_decode_steps(cache, nxt, A - 1)
            return {"seconds": time.perf_counter() - t0}
    raise ValueError(f"unknown op {op}")


# ---- llama.cpp (llama-cpp-python) ----

def llama_load(cmd):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=cmd["gguf"], n_ctx=int(cmd.get("ctx", 8192)),
                          n_threads=int(cmd.get("threads", 2)),
                          n_threads_batch=int(cmd.get("threads", 2)), n_batch=512, verbose=False)
    STATE.update(engine="llamacpp", llm=llm, vocab=llm.n_vocab())
    return {"ok": True, "version": f"llama-cpp-python {llama_cpp.__version__}",
            "threads": int(cmd.get("threads", 2))}


def llama_f16(cmd):
    import ctypes
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True
    rc = llama_cpp.llama_model_quantize(cmd["src"].encode(), cmd["dst"].encode(), ctypes.byref(params))
    return {"ok": rc == 0, "rc": rc}


def llama_op(cmd):
    llm = STATE["llm"]
    op = cmd["op"]
    if op == "prefill":
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids(cmd["T"], STATE["vocab"]))
        return {"seconds": time.perf_counter() - t0}
    if op == "decode":
        if cmd["batch"] != 1:
            return {"seconds": None, "reason": "llama-cpp-python's Llama decodes one sequence"}
        llm.reset()
        llm.eval(ids(cmd["ctx"], STATE["vocab"]))
        t0 = time.perf_counter()
        for i in range(cmd["steps"]):
            llm.eval([(i * 31) % STATE["vocab"]])
        return {"seconds": time.perf_counter() - t0}
    return {"seconds": None, "reason": f"{op} not measured on llama.cpp"}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            if cmd["op"] == "load":
                res = torch_load(cmd) if cmd["engine"] == "torch" else llama_load(cmd)
            elif cmd["op"] == "f16gguf":
                res = llama_f16(cmd)
            elif STATE.get("engine") == "torch":
                res = torch_op(cmd)
            else:
                res = llama_op(cmd)
        except Exception as err:  # reported to spell, which records the phase as failed
            res = {"error": f"{type(err).__name__}: {err}"}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
