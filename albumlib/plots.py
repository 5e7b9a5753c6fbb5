"""Figures the notebooks share: image rows, loss curves, feature maps, Gram matrices (notebook 01), waveforms and spectra (notebook 03), music model curves (notebook 04), timelines and onsets (notebook 06)."""

import numpy as np


def _plt():
    """Import pyplot lazily, so that importing albumlib stays cheap."""
    import matplotlib.pyplot as plt
    return plt


def show_images(images, titles=None, size=3.5, cols=None):
    """Show RGB images side by side with optional titles; returns the figure; notebook 01."""
    plt = _plt()
    images = list(images)
    cols = cols or len(images)
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes.ravel()[i]
        ax.imshow(np.clip(np.asarray(image), 0, 1))
        if titles is not None:
            ax.set_title(titles[i])
    fig.tight_layout()
    return fig


def plot_losses(history, keys=("total", "content", "style", "tv"), weights=None, ax=None, title=None):
    """Plot loss curves (log scale) from a history dict; weights scale each term; notebook 01."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for key in keys:
        if key in history and len(history[key]):
            values = np.asarray(history[key], dtype=np.float64)
            if weights and key in weights:
                values = values * weights[key]
                key = f"{key} x weight"
            ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def show_feature_maps(features, channels=8, title=None, size=1.6):
    """Show the first `channels` maps of one layer's (H, W, C) features as images; notebook 01."""
    plt = _plt()
    feats = np.asarray(features)
    feats = feats[0] if feats.ndim == 4 else feats
    channels = min(channels, feats.shape[-1])
    fig, axes = plt.subplots(1, channels, figsize=(size * channels, size * 1.15), squeeze=False)
    for c, ax in enumerate(axes[0]):
        ax.imshow(feats[..., c], cmap="viridis")
        ax.set_title(f"ch {c}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_gram(gram, title=None, ax=None, channels=64):
    """Show (the top-left corner of) a Gram matrix as a heat map; notebook 01."""
    plt = _plt()
    g = np.asarray(gram)
    g = g[0] if g.ndim == 3 else g
    g = g[:channels, :channels]
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    im = ax.imshow(g, cmap="magma")
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xlabel("channel")
    ax.set_ylabel("channel")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_waveform(signal, sr, ax=None, title=None, start=0.0, **style):
    """Plot a mono signal against time in seconds (from `start`); notebook 03."""
    plt = _plt()
    x = np.asarray(signal)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.5))
    ax.plot(start + np.arange(x.size) / sr, x, lw=style.pop("lw", 0.5), **style)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_spectrum(signal, sr, ax=None, label=None, floor_db=-100.0, log_freq=True, **style):
    """Plot |rfft| of a signal in dB below its peak (log frequency axis from 20 Hz); notebook 03."""
    plt = _plt()
    x = np.asarray(signal, dtype=np.float64)
    mag = np.abs(np.fft.rfft(x))
    db = 20 * np.log10(np.maximum(mag / max(mag.max(), 1e-30), 10 ** (floor_db / 20)))
    freqs = np.fft.rfftfreq(x.size, 1 / sr)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    ax.plot(freqs[1:], db[1:], lw=style.pop("lw", 0.6), label=label, **style)
    if log_freq:
        ax.set_xscale("log")
    ax.set_xlim(max(freqs[1], 20.0) if log_freq else 0.0, sr / 2)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("dB below peak")
    if label:
        ax.legend()
    return ax.figure


def piano_roll(notes, ax, title=None, unit="s"):
    """Notes (onset, duration, MIDI pitch, velocity 0-1[, part]) as bars coloured by velocity:
    time across (in `unit`), pitch up; notebooks 03-05."""
    cmap = _plt().cm.viridis
    for onset, duration, pitch, velocity, *_ in notes:
        ax.barh(pitch, duration, left=onset, height=0.8, color=cmap(velocity), edgecolor="black",
                lw=0.3)
    ax.set(xlabel=f"time ({unit})", ylabel="MIDI pitch", title=title)
    return ax


def show_spectrogram(signal, sr, ax=None, title=None, nperseg=2048, floor_db=-90.0, log_freq=True):
    """Show a signal's spectrogram in dB below its peak (log frequency axis from 30 Hz); notebook 03."""
    from scipy.signal import spectrogram

    plt = _plt()
    freqs, times, power = spectrogram(np.asarray(signal, np.float64), sr, nperseg=nperseg,
                                      noverlap=nperseg // 2)
    db = 10 * np.log10(np.maximum(power / max(power.max(), 1e-30), 10 ** (floor_db / 10)))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    im = ax.pcolormesh(times, freqs[1:], db[1:], shading="auto", cmap="magma")
    if log_freq:
        ax.set_yscale("log")
    ax.set_ylim(30 if log_freq else 0, sr / 2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.figure.colorbar(im, ax=ax, label="dB below peak", fraction=0.04)
    if title:
        ax.set_title(title)
    return ax.figure


def plot_layer_parameters(names, counts, ax=None, title=None):
    """Bars of parameters per layer (log scale), labelled with counts and shares; notebook 04."""
    plt = _plt()
    counts = np.asarray(counts, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * len(counts) + 1.2))
    y = np.arange(len(counts))[::-1]
    ax.barh(y, counts, color="tab:blue")
    for yi, c in zip(y, counts):
        ax.text(c * 1.15, yi, f"{c:,.0f} ({c / counts.sum():.1%})", va="center", fontsize=9)
    ax.set_yticks(y, list(names))
    ax.set_xscale("log")
    ax.set_xlim(max(1.0, counts.min() / 3), counts.max() * 12)
    ax.set_xlabel("parameters (log scale)")
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def plot_music_losses(history, ax=None, title=None, gap=False, baselines=None):
    """Training, held-out and free-running losses per epoch (log scale), gap shaded; notebook 04."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    epochs = np.asarray(history["epoch"])
    labels = {"train": "training songs (teacher forced)", "val": "held-out songs (teacher forced)",
              "val_free": "held-out songs (free running)"}
    curves = {}
    for key, label in labels.items():
        values = np.asarray([np.nan if v is None else v for v in history.get(key, [])], np.float64)
        if values.size and np.isfinite(values).any():
            curves[key] = values
            ax.plot(epochs, values, label=label, marker="." if len(values) <= 30 else None,
                    ls=":" if key == "val_free" else "-")
    if gap and "train" in curves and "val" in curves:
        ax.fill_between(epochs, curves["train"], curves["val"], color="tab:orange", alpha=0.15,
                        label="gap (held-out - training)")
        best = int(np.nanargmin(curves["val"]))
        ax.plot(epochs[best], curves["val"][best], "o", mfc="none", mec="black", ms=10,
                label=f"lowest held-out loss (epoch {epochs[best]})")
    for i, (label, value) in enumerate((baselines or {}).items()):
        ax.axhline(value, color="gray", ls=(0, (1, 2 + i)), lw=1)
        ax.text(epochs[0] if len(epochs) else 0, value, f" {label}", color="dimgray", fontsize=8,
                va="bottom")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def plot_block_prediction(true_block, predicted_block, sr, block_size, ax=None, title=None,
                          floor_db=-80.0):
    """dB magnitude spectra of a true and a predicted FFT feature block; notebook 04."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    freqs = np.arange(int(block_size) // 2 + 1) * sr / int(block_size)
    spectra = []
    for block in (true_block, predicted_block):
        b = np.asarray(block, dtype=np.float64)
        half = b.size // 2
        spectra.append(np.abs(b[:half] + 1j * b[half:])[:freqs.size])
    peak = max(spectra[0].max(), 1e-30)
    for mag, label, style in zip(spectra, ("true next block", "predicted"),
                                 ({"color": "tab:blue", "lw": 0.8},
                                  {"color": "tab:red", "lw": 0.8, "alpha": 0.8})):
        db = 20 * np.log10(np.maximum(mag / peak, 10 ** (floor_db / 20)))
        ax.plot(freqs[1:], db[1:], label=label, **style)
    ax.set_xscale("log")
    ax.set_xlim(freqs[1], sr / 2)
    ax.set_ylim(floor_db - 2, 5)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("dB below the true peak")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax.figure


def plot_timeline(timeline, ax=None, title=None, labels=None):
    """Bars of each photo's time on screen, slots outlined, crossfades shaded; notebook 06."""
    plt = _plt()
    fps, n = timeline.fps, timeline.n_photos
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.45 * n + 1.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k in range(n):
        (s, e), (vs, ve) = timeline.slot(k), timeline.visible(k)
        y = n - 1 - k
        ax.barh(y, (ve - vs) / fps, left=vs / fps, height=0.6, color=colors[k % len(colors)],
                alpha=0.45)
        ax.barh(y, (e - s) / fps, left=s / fps, height=0.6, fill=False, edgecolor="black", lw=1)
    for k in range(n - 1):
        a, b = timeline.transition(k)
        if b > a:
            ax.axvspan(a / fps, b / fps, color="gray", alpha=0.25, lw=0,
                       label="crossfade" if k == 0 else None)
        ax.axvline(timeline.boundaries[k + 1] / fps, color="black", ls=":", lw=0.8)
    ax.set_yticks(range(n)[::-1], labels or [f"photo {k}" for k in range(n)])
    ax.set_xlim(0, timeline.duration)
    ax.set_xlabel(f"time (s); {timeline.n_frames} frames at {fps:g} fps")
    if timeline.transition_frames and n > 1:
        ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def plot_onsets(envelope, times, onsets=None, cuts=None, ax=None, title=None):
    """An onset-strength envelope with detected onsets and sets of cuts ({label: seconds}); notebook 06."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3))
    env = np.asarray(envelope, dtype=np.float64)
    ax.plot(times, env, lw=0.7, color="tab:blue", label="onset strength")
    top = float(env.max()) if env.size and env.max() > 0 else 1.0
    if onsets is not None and len(onsets):
        ax.vlines(onsets, 0, top, color="tab:red", lw=0.8, alpha=0.6, label="detected onsets")
    styles = [dict(color="black", ls="--"), dict(color="tab:green", ls="-"),
              dict(color="tab:purple", ls="-.")]
    for i, (label, seconds) in enumerate((cuts or {}).items()):
        for j, t in enumerate(seconds):
            ax.axvline(t, lw=1.5, label=label if j == 0 else None, **styles[i % len(styles)])
    ax.set_xlim(float(times[0]) if len(times) else 0.0, float(times[-1]) if len(times) else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("spectral flux")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure
