"""Greedy continuation of an exported model in a peer, printed as one JSON list of token ids.

  python check_export.py hf    MERGED_DIR          PROMPT_JSON N   (transformers, reference venv)
  python check_export.py peft  BASE_DIR ADAPTER_DIR PROMPT_JSON N  (peft on the base, reference venv)
  python check_export.py gguf  MODEL_GGUF          PROMPT_JSON N   (llama-cpp-python, llamacpp venv)
Used by tests/lora/export.test.ts, which compares the tokens with spell's own greedy sampling.
"""
import json
import sys

mode = sys.argv[1]
if mode in ("hf", "peft"):
    import torch
    from transformers import AutoModelForCausalLM

    if mode == "hf":
        model = AutoModelForCausalLM.from_pretrained(sys.argv[2], torch_dtype=torch.float32)
        prompt, n = json.loads(sys.argv[3]), int(sys.argv[4])
    else:
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(sys.argv[2], torch_dtype=torch.float32)
        model = PeftModel.from_pretrained(base, sys.argv[3])
        prompt, n = json.loads(sys.argv[4]), int(sys.argv[5])
    model.eval()
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(n):
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
            ids.append(int(torch.argmax(logits)))
    print(json.dumps(ids[len(prompt):]))
elif mode == "gguf":
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=sys.argv[2], n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    prompt, n = json.loads(sys.argv[3]), int(sys.argv[4])
    ids = list(prompt)
    llm.reset()
    llm.eval(ids)
    out = []
    for _ in range(n):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(tok)
        llm.eval([tok])
    print(json.dumps(out))
else:
    raise SystemExit(f"unknown mode {mode}")
