"""The symbolic music model: an LSTM over note tokens, and the loop that composes with it.

The model (`build_note_model`, notebook 04) reads a sequence of tokens (albumlib.music.tokens)
and predicts the next one at every position:

    Embedding(VOCAB, 96) -> LSTM(256) -> LSTM(256) -> Dense(VOCAB)   logits of the next token

trained with cross-entropy on windows of pieces (albumlib.music.note_train). About 0.9 M
parameters, 1 % of the report's FFT model, because a token says "C4 for a quarter note" where a
block of FFT numbers has to say every sample of it.

Composing (`compose_notes`, notebook 05) is the report's feedback loop on tokens: feed a token,
get the next one's probabilities, mask what the grammar forbids (and a fifth voice, a pitch already
sounding, a rest longer than a beat), sample at a temperature, feed it back. The loop runs on a
numpy copy of the LSTM (`NumpyLSTM`), a token in about 0.1 ms, and yields notes as it goes, so a
soundtrack of any length streams in constant memory.
"""

import dataclasses

import numpy as np

from albumlib.music import tokens as tk


@dataclasses.dataclass
class NoteModelConfig:
    """Sizes of the note model; notebook 04."""

    embed: int = 96
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1


def build_note_model(config=None):
    """The Keras note model: tokens (batch, time) to next-token logits; notebook 04."""
    import keras
    from keras import layers
    config = config or NoteModelConfig()
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(tk.VOCAB, config.embed, name="embed")(tokens)
    for i in range(config.layers):
        x = layers.LSTM(config.hidden, return_sequences=True, dropout=config.dropout,
                        name=f"lstm_{i}")(x)
    logits = layers.Dense(tk.VOCAB, name="logits")(x)
    return keras.Model(tokens, logits, name="note_lstm")


def compile_note_model(model, learning_rate=2e-3):
    """Adam and cross-entropy over the vocabulary, PAD positions weighted 0; notebook 04."""
    import keras
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _sigmoid(x):
    """The logistic function, without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class NumpyLSTM:
    """The note model's weights run one token at a time in numpy; notebook 05.

    Keras' LSTM gates in the order input, forget, cell, output: z = x K + h R + b,
    c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c'). The first layer's x K + b
    is looked up: a token's embedding times K is one row of (embedding K + b).
    """

    def __init__(self, weights):
        w = [np.asarray(a, np.float32) for a in weights]
        self.embed, self.out_w, self.out_b = w[0], w[-2], w[-1]
        self.cells = [tuple(w[1 + 3 * i:4 + 3 * i]) for i in range((len(w) - 3) // 3)]
        kernel, _, bias = self.cells[0]
        self.first = self.embed @ kernel + bias          # (VOCAB, 4 hidden)

    def initial_state(self):
        """Zero (h, c) for each LSTM layer."""
        return [(np.zeros(r.shape[0], np.float32), np.zeros(r.shape[0], np.float32))
                for _, r, _ in self.cells]

    def step(self, token, state):
        """Logits of the next token after `token`, and the new state."""
        x, new = None, []
        for layer, ((kernel, recurrent, bias), (h, c)) in enumerate(zip(self.cells, state)):
            z = (self.first[int(token)] if layer == 0 else x @ kernel + bias) + h @ recurrent
            n = len(h)
            c = _sigmoid(z[n:2 * n]) * c + _sigmoid(z[:n]) * np.tanh(z[2 * n:3 * n])
            x = h = _sigmoid(z[3 * n:]) * np.tanh(c)
            new.append((h, c))
        return x @ self.out_w + self.out_b, new


@dataclasses.dataclass
class Rules:
    """What the sampler forbids besides the grammar; notebook 05."""

    max_polyphony: int = 4          # notes sounding at once
    max_rest_beats: float = 1.0     # silence before a note is forced
    low: int = 28                   # the lowest and highest pitch it may play
    high: int = 96


def _mask(token, last_pitch, ends, now, last_end, rules):
    """The tokens allowed next: grammar, range, polyphony, no doubled pitch, no long rest."""
    mask = tk.allowed(token, last_pitch)
    mask[tk.EOS] = False
    if tk.kind(token) == "note":
        return mask
    mask[tk.NOTE0:tk.NOTE0 + max(rules.low - tk.LOW, 0)] = False
    mask[tk.NOTE0 + rules.high - tk.LOW + 1:tk.DUR0] = False
    sounding = [p for p, end in ends.items() if end > now]
    if len(sounding) >= rules.max_polyphony:
        mask[tk.NOTE0:tk.DUR0] = False
    mask[[tk.NOTE0 + p - tk.LOW for p in sounding]] = False
    longest = last_end + int(rules.max_rest_beats / tk.STEP) - now   # the longest shift allowed
    mask[tk.SHIFT0 + max(longest, 0):tk.NOTE0] = False
    if not mask.any():
        mask[tk.SHIFT0] = True
    return mask


def sample_token(logits, mask, temperature, rng):
    """One token drawn from softmax(logits / temperature) over the allowed ones; notebook 05."""
    z = np.where(mask, logits / max(temperature, 1e-6), -np.inf)
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def compose_notes(lstm, seconds, bpm, temperature=0.8, seed=0, rules=None, velocity=0.7,
                  transpose=0):
    """Yield notes (onset s, duration s, pitch, velocity) for `seconds` of music, moved by
    `transpose` semitones (the model composes in C major / A minor); notebook 05."""
    rules, rng = rules or Rules(), np.random.default_rng(seed)
    spb = 60.0 / bpm * tk.STEP                # seconds per grid step
    state, token, now, last_end = lstm.initial_state(), tk.BOS, 0, 0
    pitch = last_pitch = None
    ends = {}                                  # pitch -> grid step where it stops sounding
    while now * spb < seconds:
        logits, state = lstm.step(token, state)
        token = sample_token(logits, _mask(token, last_pitch, ends, now, last_end, rules),
                             temperature, rng)
        what = tk.kind(token)
        if what == "shift":
            now += token - tk.SHIFT0 + 1
            last_pitch = None
            ends = {p: e for p, e in ends.items() if e > now}
        elif what == "note":
            pitch = token - tk.NOTE0 + tk.LOW
        elif what == "dur":
            steps = token - tk.DUR0 + 1
            ends[pitch], last_pitch = now + steps, pitch
            last_end = max(last_end, now + steps)
            yield (now * spb, min(steps * spb, seconds - now * spb), pitch + transpose, velocity)
