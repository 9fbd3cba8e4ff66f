"""Drive `spell serve` with the official tinker SDK (any era: 0.24.x JSON, 0.38 protobuf).

    python peers/tinker/sdk_against_serve.py BASE_URL BASE_MODEL VOCAB

Every step prints one line `step NAME ok ...`; the first failure raises (exit code 1) with the
SDK's own error. Steps: server capabilities, a LoRA training client, forward_backward with
cross_entropy and ppo, forward, optim_step, save_weights_for_sampler + sample, save_state,
load_state (into a new client), compute_logprobs (prompt log-probs), a small RL loop in the
tinker-cookbook style (rl_loop.py: ephemeral sampler per step, group-centred advantages,
importance_sampling, forward_backward + optim_step submitted before either is awaited), and, where
the SDK has it, closing the service client (which finishes the session).
Token-in/token-out only: the tiny served model has no Hugging Face tokenizer.
"""

import math
import sys
from importlib.metadata import version

import tinker
from tinker import types

BASE_URL, BASE_MODEL, VOCAB = sys.argv[1], sys.argv[2], int(sys.argv[3])
SDK = version("tinker")


def ready(x):
    """SDK >= 0.3x returns futures of clients (using them directly is deprecated); 0.24 the clients."""
    return x.result() if "Future" in type(x).__name__ else x


def step(name, **facts):
    print(f"step {name} ok " + " ".join(f"{k}={v}" for k, v in facts.items()), flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def datum_ce(tokens):
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={"target_tokens": tokens[1:], "weights": [1.0] * (len(tokens) - 1)},
    )


def tensor_list(td):
    return list(td.tolist()) if hasattr(td, "tolist") else list(td.data)


def main():
    service = tinker.ServiceClient(base_url=BASE_URL, api_key="tml-spell-test")
    rest = service.create_rest_client()
    caps = ready(rest.get_server_capabilities()) if hasattr(rest, "get_server_capabilities") else service.get_server_capabilities()
    names = [m.model_name for m in caps.supported_models]
    check(BASE_MODEL in names, f"capabilities list {names}, expected {BASE_MODEL}")
    step("capabilities", sdk=SDK, models=names)

    training = ready(service.create_lora_training_client(base_model=BASE_MODEL, rank=4))
    info = training.get_info()
    step("create_lora_training_client", model_id=info.model_id)

    seq = [1, 5, 9, 13, 17, 21, 25, 29]
    fb = training.forward_backward([datum_ce(seq)], "cross_entropy").result()
    lp = tensor_list(fb.loss_fn_outputs[0]["logprobs"])
    check(len(lp) == len(seq) - 1, f"cross_entropy logprobs length {len(lp)}")
    loss = fb.metrics["loss:sum"]
    check(abs(loss + sum(lp)) < 1e-3 * max(1.0, abs(loss)), f"loss:sum {loss} != -sum(logprobs) {-sum(lp)}")
    step("forward_backward_cross_entropy", loss=round(loss, 4))

    ppo = types.Datum(
        model_input=types.ModelInput.from_ints(seq[:-1]),
        loss_fn_inputs={
            "target_tokens": seq[1:],
            "logprobs": [x - 0.05 for x in lp],
            "advantages": [0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5],
        },
    )
    fb2 = training.forward_backward(
        [ppo], "ppo", loss_fn_config={"clip_low_threshold": 0.8, "clip_high_threshold": 1.2}
    ).result()
    step("forward_backward_ppo", loss=round(fb2.metrics["loss:sum"], 4))

    fwd = training.forward([datum_ce(seq)], "cross_entropy").result()
    step("forward", loss=round(fwd.metrics["loss:sum"], 4))

    opt = training.optim_step(types.AdamParams(learning_rate=1e-2)).result()
    step("optim_step", metrics=sorted((opt.metrics or {}).keys()))

    after = training.forward([datum_ce(seq)], "cross_entropy").result()
    check(after.metrics["loss:sum"] < loss, f"loss did not fall after optim_step: {loss} -> {after.metrics['loss:sum']}")
    step("loss_fell", before=round(loss, 4), after=round(after.metrics["loss:sum"], 4))

    sampler_path = training.save_weights_for_sampler(name="sdk-sampler").result().path
    check(sampler_path.startswith("tinker://"), f"sampler path {sampler_path}")
    sampler = ready(service.create_sampling_client(model_path=sampler_path))
    params = types.SamplingParams(max_tokens=6, temperature=1.0, seed=7)
    res = sampler.sample(types.ModelInput.from_ints([1, 5, 9]), num_samples=3, sampling_params=params).result()
    check(len(res.sequences) == 3, f"{len(res.sequences)} sequences")
    for s in res.sequences:
        check(len(s.tokens) >= 1 and len(s.logprobs) == len(s.tokens), "tokens/logprobs mismatch")
        check(all(0 <= t < VOCAB for t in s.tokens), f"token out of vocab: {s.tokens}")
        check(s.stop_reason in ("stop", "length"), f"stop_reason {s.stop_reason}")
    again = sampler.sample(types.ModelInput.from_ints([1, 5, 9]), num_samples=3, sampling_params=params).result()
    check([s.tokens for s in again.sequences] == [s.tokens for s in res.sequences], "same seed gave different tokens")
    step("sample", path=sampler_path, tokens=[list(s.tokens) for s in res.sequences])

    greedy = sampler.sample(
        types.ModelInput.from_ints([1, 5, 9]),
        num_samples=1,
        sampling_params=types.SamplingParams(max_tokens=4, temperature=0.0, stop=[3]),
    ).result()
    step("sample_greedy_stop", tokens=list(greedy.sequences[0].tokens), stop_reason=greedy.sequences[0].stop_reason)

    prompt = types.ModelInput.from_ints(seq)
    plp = sampler.compute_logprobs(prompt).result()
    check(len(plp) == len(seq), f"compute_logprobs gave {len(plp)} values for {len(seq)} tokens")
    check(plp[0] is None, f"first prompt logprob should be None, got {plp[0]}")
    # The learner's forward after the same weights gives the same log-probs of the same tokens.
    learner = tensor_list(training.forward([datum_ce(seq)], "cross_entropy").result().loss_fn_outputs[0]["logprobs"])
    diff = max(abs(a - b) for a, b in zip(plp[1:], learner))
    check(diff < 1e-3, f"compute_logprobs differs from the learner's forward by {diff}")
    step("compute_logprobs", n=len(plp), max_diff_vs_forward=f"{diff:.2e}")

    topk = sampler.sample(
        prompt, num_samples=1, sampling_params=types.SamplingParams(max_tokens=1),
        include_prompt_logprobs=True, topk_prompt_logprobs=3,
    ).result()
    rows = topk.topk_prompt_logprobs
    check(rows is not None and len(rows) == len(seq), f"topk_prompt_logprobs rows: {None if rows is None else len(rows)}")
    check(rows[0] is None or len(rows[0]) == 0, f"first row should be empty: {rows[0]}")
    for i in range(1, len(seq)):
        pairs = rows[i]
        check(len(pairs) == 3, f"row {i} has {len(pairs)} pairs")
        check(pairs[0][1] >= pairs[1][1] >= pairs[2][1], f"row {i} not sorted: {pairs}")
        check(pairs[0][1] >= plp[i] - 1e-4, f"row {i}: top logprob {pairs[0][1]} below the prompt token's {plp[i]}")
    step("topk_prompt_logprobs", k=3)

    state_path = training.save_state("sdk-state").result().path
    check("/weights/" in state_path, f"state path {state_path}")
    restored = ready(service.create_training_client_from_state_with_optimizer(state_path))
    back = restored.forward([datum_ce(seq)], "cross_entropy").result()
    check(abs(back.metrics["loss:sum"] - after.metrics["loss:sum"]) < 1e-4,
          f"restored loss {back.metrics['loss:sum']} != saved {after.metrics['loss:sum']}")
    step("save_load_state", path=state_path)
    fresh = ready(service.create_lora_training_client(base_model=BASE_MODEL, rank=4))
    fresh.load_state(state_path).result()
    back2 = fresh.forward([datum_ce(seq)], "cross_entropy").result()
    check(abs(back2.metrics["loss:sum"] - after.metrics["loss:sum"]) < 1e-4, "load_state gave other weights")
    step("load_state")

    rl_loop(service)

    # SDK >= 0.3x finishes the session (POST /api/v1/sessions/{id}/finish); the server then frees
    # the engines of the session's training models. 0.24.x has no close: its models stay until the
    # server unloads them as idle.
    if hasattr(service, "close"):
        service.close("success").result()
        step("session_finished")


def rl_loop(service):
    """The cookbook's rl_loop.py in miniature: reward = share of sampled tokens that are even."""
    training = ready(service.create_lora_training_client(base_model=BASE_MODEL, rank=4))
    adam = types.AdamParams(learning_rate=2e-2, beta1=0.9, beta2=0.95, eps=1e-8)
    prompts = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    group = 4
    history = []
    for it in range(6):
        sampler = ready(training.save_weights_and_get_sampling_client())
        params = types.SamplingParams(max_tokens=5, temperature=1.0, seed=100 + it)
        futures = [sampler.sample(types.ModelInput.from_ints(p), num_samples=group, sampling_params=params) for p in prompts]
        datums, rewards = [], []
        for p, fut in zip(prompts, futures):
            seqs = fut.result().sequences
            rs = [sum(1 for t in s.tokens if t % 2 == 0) / max(1, len(s.tokens)) for s in seqs]
            rewards.extend(rs)
            mean = sum(rs) / len(rs)
            for s, r in zip(seqs, rs):
                adv = r - mean
                if adv == 0:
                    continue
                toks = list(s.tokens)
                full = p + toks
                n_prompt = len(p) - 1
                datums.append(types.Datum(
                    model_input=types.ModelInput.from_ints(full[:-1]),
                    loss_fn_inputs={
                        "target_tokens": full[1:],
                        "logprobs": [0.0] * n_prompt + list(s.logprobs),
                        "advantages": [0.0] * n_prompt + [adv] * len(toks),
                    },
                ))
        mean_reward = sum(rewards) / len(rewards)
        history.append(mean_reward)
        if datums:
            fb_future = training.forward_backward(datums, "importance_sampling")
            opt_future = training.optim_step(adam)
            fb = fb_future.result()
            opt_future.result()
            check(len(fb.loss_fn_outputs) == len(datums), "one loss_fn_output per datum")
            check(all(math.isfinite(x) for x in fb.metrics.values()), f"metrics {fb.metrics}")
        step("rl_iteration", it=it, mean_reward=f"{mean_reward:.3f}", datums=len(datums))
    final = training.save_state("rl-final").result().path
    training.save_weights_for_sampler(name="rl-final").result()
    step("rl_loop", first=f"{history[0]:.3f}", last=f"{history[-1]:.3f}", state=final)


if __name__ == "__main__":
    main()
    print("sdk run complete", flush=True)
