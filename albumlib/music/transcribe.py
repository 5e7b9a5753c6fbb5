"""Audio to notes with Spotify's basic-pitch model, run by TensorFlow's TFLite interpreter.

Taught in notebook 03 (appendix). The network is the ICASSP 2022 model of basic-pitch (Bittner et
al., "A Lightweight Instrument-Agnostic Model for Polyphonic Note Transcription and Multipitch
Estimation"), bundled as data/basic_pitch/nmp.tflite (see its ATTRIBUTION.md); the basic-pitch
package itself is not needed. Notes come back in the project's format, (onset s, duration s, MIDI
pitch, velocity 0-1), as `albumlib.music.synth.render_notes` and `albumlib.music.note_metrics`
take them.

How it works: the audio, mono at 22,050 Hz, is cut into windows of 43,844 samples (2 s less one
hop) that overlap by 30 frames of 256 samples; the model gives each window 172 frames x 88 piano
keys of note and onset activations; 15 frames are dropped at each side of a window and the rest
joined. Notes start at peaks of the onset activation (and of rises of the note activation) above
`onset_threshold` and last while the note activation stays above `frame_threshold` (11 frames of
grace); then the "melodia trick" makes notes of the strongest activation left without an onset.
The thresholds default to 0.7 and 0.4 (basic-pitch's: 0.5 and 0.3), which find the notes of the
bundled pieces' scores better. The interpreter is `tf.lite.Interpreter` (TensorFlow 2.21 warns
that it moves to the ai_edge_litert package; that warning is silenced, and ai_edge_litert's
interpreter is used instead where it is installed). TensorFlow is imported at the first call.

Memory stays flat with the length of the input: the file is decoded in chunks, the model runs a
few windows at a time, and notes are made block by block (`block_frames` frames, about 24 s) with
a carried overlap: a block keeps the notes that start in it and have ended, the notes still
sounding are made again with the next block, and the notes kept reach into the next block only
as "energy already used". A note held longer than `max_block_frames` is cut there.

Differences from basic-pitch 0.4.0's own `predict` (benchmarks/bench_transcribe.py measures the
agreement): the frame times come from the window positions (basic-pitch corrects its drift with
an empirical 1.8 ms), the output is trimmed at the end of the signal (basic-pitch keeps
floor(seconds x 86) frames, which drops the last 0.7 % of a long file), the rise-onsets are scaled
by the running maxima of the blocks made so far (basic-pitch: of the whole file), no pitch bends.

Ported from basic-pitch 0.4.0 (basic_pitch/inference.py: the windowing and unwrapping;
basic_pitch/note_creation.py: output_to_notes_polyphonic, get_infered_onsets) under the Apache
License 2.0:

    Copyright 2022 Spotify AB

    Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file
    except in compliance with the License. You may obtain a copy of the License at
    http://www.apache.org/licenses/LICENSE-2.0 (also data/basic_pitch/LICENSE). Unless required
    by applicable law or agreed to in writing, software distributed under the License is
    distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either
    express or implied. See the License for the specific language governing permissions and
    limitations under the License.

Changed from the original: rewritten in blocks for flat memory, times from window positions,
trimming at the signal's end, running maxima, no pitch bends (see above).
"""

import os
import warnings

import numpy as np

from albumlib import paths

SAMPLE_RATE = 22050                    # the model's input rate (basic-pitch AUDIO_SAMPLE_RATE)
FFT_HOP = 256                          # samples a frame
WINDOW_SAMPLES = 2 * SAMPLE_RATE - FFT_HOP   # 43,844 samples a window (AUDIO_N_SAMPLES)
WINDOW_FRAMES = 172                    # frames the model gives a window (ANNOT_N_FRAMES)
OVERLAP_FRAMES = 30                    # frames shared by consecutive windows
HALF_OVERLAP = OVERLAP_FRAMES // 2     # dropped at each side of a window
KEPT_FRAMES = WINDOW_FRAMES - OVERLAP_FRAMES           # 142 frames kept of each window
HOP_SAMPLES = WINDOW_SAMPLES - OVERLAP_FRAMES * FFT_HOP  # 36,164 samples between windows
LEAD_SAMPLES = HALF_OVERLAP * FFT_HOP  # zeros put before the signal (3,840)
MIDI_OFFSET = 21                       # MIDI pitch of the lowest key (A0)
N_KEYS = 88
ENERGY_TOL = 11                        # frames below frame_threshold that end a note
CONTEXT = 3                            # frames kept before a block (rise-onsets, onset peaks)
BATCH = 4                              # windows a model call (4: fastest on a 2-core CPU)
# basic-pitch's defaults are 0.5 and 0.3; 0.7 and 0.4 find the notes of the bundled pieces'
# scores better (mean note F1 0.88 against 0.81: benchmarks/RESULTS.md, bench_transcribe.py)
ONSET_THRESHOLD = 0.7
FRAME_THRESHOLD = 0.4


def model_path():
    """The bundled basic-pitch ICASSP 2022 model (data/basic_pitch/nmp.tflite)."""
    return paths.data_path("basic_pitch", "nmp.tflite")


_bundled_model = model_path  # (Transcriber's argument of the same name hides the function)


def frame_times(index):
    """Seconds of frame(s) `index` of the joined model output (the centre of each frame)."""
    index = np.asarray(index, dtype=np.int64)
    window, within = np.divmod(index, KEPT_FRAMES)
    return (window * HOP_SAMPLES + within * FFT_HOP) / SAMPLE_RATE


def frames_in(n_samples):
    """How many frames of the joined output lie inside a signal of `n_samples` samples."""
    windows, rest = divmod(int(n_samples), HOP_SAMPLES)
    return windows * KEPT_FRAMES + min(KEPT_FRAMES, -(-rest // FFT_HOP))


def _interpreter(path, threads):
    """A TFLite interpreter for `path`: ai_edge_litert's if installed, else tf.lite's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():  # TF 2.21 warns that tf.lite.Interpreter moves to LiteRT
        warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
        return Interpreter(model_path=str(path), num_threads=threads)


class _Model:
    """The basic-pitch network: windows (b, 43844) -> note and onset activations (b, 172, 88)."""

    def __init__(self, path, threads=None):
        interpreter = _interpreter(path, threads or min(4, os.cpu_count() or 1))
        self.runner = interpreter.get_signature_runner()  # resizes to the batch it is given
        (self.input,) = self.runner.get_input_details()

    def __call__(self, windows):
        """Note and onset activations, float32 (b, 172, 88) each, of float32 windows (b, N)."""
        windows = np.ascontiguousarray(windows, dtype=np.float32)[:, :, None]
        out = self.runner(**{self.input: windows})
        return out["note"], out["onset"]


class _Windower:
    """Cuts a stream of samples into the model's overlapping windows (basic-pitch's padding)."""

    def __init__(self):
        self.buffer = np.zeros(LEAD_SAMPLES, np.float32)
        self.n_samples = 0

    def feed(self, chunk):
        """The full windows that `chunk` completes."""
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self.n_samples += chunk.size
        self.buffer = np.concatenate([self.buffer, chunk])
        out = []
        while self.buffer.size >= WINDOW_SAMPLES:
            out.append(self.buffer[:WINDOW_SAMPLES])
            self.buffer = self.buffer[HOP_SAMPLES:]
        return out

    def finish(self):
        """The last windows, padded with zeros (one for each hop that starts inside the signal)."""
        out = []
        while self.buffer.size > 0:
            window = np.zeros(WINDOW_SAMPLES, np.float32)
            window[:min(self.buffer.size, WINDOW_SAMPLES)] = self.buffer[:WINDOW_SAMPLES]
            out.append(window)
            self.buffer = self.buffer[HOP_SAMPLES:]
        return out


def _rises(frames):
    """Rises of the note activation over both of the last two frames, >= 0 (frame_diff)."""
    rises = np.zeros_like(frames)
    rises[2:] = np.minimum(frames[2:] - frames[1:-1], frames[2:] - frames[:-2])
    return np.maximum(rises, 0.0, out=rises)


def _clear(energy, start, end, key):
    """Zero the energy of `key` and its two neighbours over frames [start, end)."""
    energy[start:end, max(key - 1, 0):key + 2] = 0.0


def _claim(owner, start, end, key, who):
    """Mark frames [start, end) of `key` and its neighbours as cleared by a note from `who`."""
    cells = owner[start:end, max(key - 1, 0):key + 2]
    np.minimum(cells, who, out=cells)


def _note_end(energy, start, key, threshold, n):
    """(end frame, reached the block's end) of a note from its onset, scanning forward."""
    i, k = start + 1, 0
    column = energy[:, key]
    while i < n - 1 and k < ENERGY_TOL:
        k = k + 1 if column[i] < threshold else 0
        i += 1
    return i - k, k < ENERGY_TOL


def _melodia_span(energy, mid, key, threshold, n):
    """(start, end, reached the block's end, first and last+1 frame cleared) around a peak."""
    i, k = mid + 1, 0
    while i < n - 1 and k < ENERGY_TOL:
        k = k + 1 if energy[i, key] < threshold else 0
        _clear(energy, i, i + 1, key)
        i += 1
    end, open_end, last = i - 1 - k, k < ENERGY_TOL, i
    i, k = mid - 1, 0
    while i > 0 and k < ENERGY_TOL:
        k = k + 1 if energy[i, key] < threshold else 0
        _clear(energy, i, i + 1, key)
        i -= 1
    return i + 1 + k, end, open_end, i + 1, last


class _NoteMaker:
    """Turns a stream of model frames into notes, block by block (output_to_notes_polyphonic).

    A block is made as basic-pitch makes a whole file. Its notes that start before the cut are
    kept; the energy that they (and the melodia trick's searches that started before the cut)
    cleared past the cut is carried to the next block, which makes the later notes again with
    more frames. The cut moves back to the start of a kept note still sounding at the block's
    end; a block whose first note sounds to its end grows, up to `max_block_frames`.
    """

    def __init__(self, onset_threshold, frame_threshold, min_frames, melodia,
                 block_frames, margin_frames, max_block_frames):
        self.onset_threshold, self.frame_threshold = onset_threshold, frame_threshold
        self.min_frames, self.melodia = min_frames, melodia
        self.block, self.margin = block_frames, margin_frames
        self.max_block = max(max_block_frames, block_frames)
        self.note = np.zeros((0, N_KEYS), np.float32)
        self.onset = np.zeros((0, N_KEYS), np.float32)
        self.first_frame = 0      # global index of the buffer's first frame
        self.done = 0             # notes starting before this frame are made
        self.cleared = np.zeros((0, N_KEYS), bool)  # energy used by made notes, from first_frame
        self.maxima = [0.0, 0.0]  # running maxima of the onsets and of the rises
        self.grow = 0             # extra frames asked for by a note held through a whole block
        self.limit = None         # frames of the whole output, once known
        self.notes = []           # (start frame, end frame, key, amplitude)

    def push(self, note, onset):
        """Add frames (n, 88) of note and onset activations; make the notes of full blocks."""
        if self.limit is not None:
            keep = max(0, self.limit - self.first_frame - len(self.note))
            note, onset = note[:keep], onset[:keep]
        self.note = np.concatenate([self.note, note])
        self.onset = np.concatenate([self.onset, onset])
        while len(self.note) >= self._wanted():
            self._make(self._wanted(), final=False)

    def finish(self):
        """Make the notes of the frames left; return all notes (start, end, key, amplitude)."""
        if self.limit is not None:
            self.note = self.note[:max(0, self.limit - self.first_frame)]
            self.onset = self.onset[:len(self.note)]
        self._make(len(self.note), final=True)
        return self.notes

    def _wanted(self):
        """Frames a non-final block needs: context, block, margin, growth, carried energy."""
        first = self.done - self.first_frame
        return max(first + self.block + self.grow + self.margin, len(self.cleared))

    def _make(self, n, final):
        """Make the notes of the buffer's first n frames; keep those that start in the block."""
        first = self.done - self.first_frame
        if n <= first:
            return
        frames = self.note[:n].astype(np.float64)
        onsets = self._onsets(frames, self.onset[:n].astype(np.float64))
        energy = frames.copy()
        owner = np.full(energy.shape, np.iinfo(np.int32).max, np.int32)
        notes = self._onset_notes(frames, onsets, energy, owner, first, n)
        carried = self.cleared[:n]  # cleared after the onset notes: in the file's order
        energy[:len(carried)][carried] = 0.0
        owner[:len(carried)][carried] = -1
        energy[:first] = 0.0
        if self.melodia:
            notes += self._melodia_notes(frames, energy, owner, n)
        cut = n if final else self._cut(notes, first)
        if cut is None:
            return
        self.notes += [(self.first_frame + s, self.first_frame + e, key, amplitude)
                       for s, e, key, amplitude, _ in notes if s < cut]
        self._advance(cut, owner[:n])

    def _onsets(self, frames, onsets):
        """Onsets or scaled rises of the note activation, the larger (get_infered_onsets).

        basic-pitch scales the rises to the onsets' maximum over the whole file; here, over the
        blocks made so far (the same for a file of one block).
        """
        rises = _rises(frames)
        self.maxima[0] = max(self.maxima[0], float(onsets.max(initial=0.0)))
        self.maxima[1] = max(self.maxima[1], float(rises.max(initial=0.0)))
        scale = self.maxima[0] / self.maxima[1] if self.maxima[1] > 0 else 0.0
        return np.maximum(onsets, rises * scale)

    def _onset_notes(self, frames, onsets, energy, owner, first, n):
        """Notes from onset peaks from `first` on, latest first, clearing `energy` they use."""
        from scipy.signal import argrelmax

        peaks = np.zeros_like(onsets)
        where = argrelmax(onsets, axis=0)
        peaks[where] = onsets[where]
        times, keys = np.nonzero(peaks >= self.onset_threshold)
        notes = []
        for start, key in zip(times[::-1], keys[::-1]):
            if start < first or start >= n - 1:
                continue
            end, open_end = _note_end(energy, start, key, self.frame_threshold, n)
            if end - start <= self.min_frames:
                continue
            _clear(energy, start, end, key)
            _claim(owner, start, end, key, start)
            notes.append((start, end, key, float(np.mean(frames[start:end, key])), open_end))
        return notes

    def _melodia_notes(self, frames, energy, owner, n):
        """Notes from the strongest activation left, one peak at a time (the melodia trick)."""
        notes = []
        while True:
            mid, key = np.unravel_index(np.argmax(energy), energy.shape)
            if energy[mid, key] <= self.frame_threshold:
                return notes
            energy[mid, key] = 0.0
            start, end, open_end, lo, hi = _melodia_span(energy, mid, key,
                                                         self.frame_threshold, n)
            _claim(owner, lo, mid, key, start)
            _claim(owner, mid + 1, hi, key, start)
            owner[mid, key] = min(owner[mid, key], start)
            if end - start > self.min_frames:
                notes.append((start, end, key, float(np.mean(frames[start:end, key])), open_end))

    def _cut(self, notes, first):
        """Where this block ends: before the first note still sounding at its end (None: grow)."""
        cut = first + self.block + self.grow
        held = [start for start, _, _, _, open_end in notes if open_end and start < cut]
        if held and min(held) > first:
            cut = min(held)
        elif held and self.block + self.grow < self.max_block:
            self.grow += self.block
            return None
        return cut

    def _advance(self, cut, owner):
        """Drop the frames before the next block's context; carry the energy kept notes used."""
        drop = max(0, cut - CONTEXT)
        self.cleared = owner[drop:] < cut
        self.done = self.first_frame + cut
        self.first_frame += drop
        self.note, self.onset = self.note[drop:], self.onset[drop:]
        self.grow = 0


class Transcriber:
    """basic-pitch transcription of audio to notes (onset s, duration s, pitch, velocity).

    Options: `model_path` (default the bundled model); `onset_threshold` (a note starts at an
    onset peak above it) and `frame_threshold` (it lasts while the note activation stays above
    it); `min_note_seconds` (notes must be longer: 0.1277 s, basic-pitch's, is 11 frames);
    `melodia` (also make notes of strong activations without an onset); `chunk_samples` (the
    decoding's chunk); `block_frames` and `max_block_frames` (the note-making blocks, 86.6 frames
    a second); `threads` (the interpreter's, default the CPUs up to 4). Velocity is the mean
    note activation of the note.
    """

    def __init__(self, model_path=None, onset_threshold=ONSET_THRESHOLD,
                 frame_threshold=FRAME_THRESHOLD,
                 min_note_seconds=0.1277, melodia=True, chunk_samples=SAMPLE_RATE * 30,
                 block_frames=2048, max_block_frames=8192, threads=None):
        if not 0.0 < onset_threshold < 1.0 or not 0.0 < frame_threshold < 1.0:
            raise ValueError("onset_threshold and frame_threshold must lie in (0, 1)")
        self.model_path = model_path or _bundled_model()
        self.onset_threshold, self.frame_threshold = float(onset_threshold), float(frame_threshold)
        self.min_frames = int(round(min_note_seconds * SAMPLE_RATE / FFT_HOP))
        self.melodia, self.chunk_samples = melodia, int(chunk_samples)
        self.block_frames, self.max_block_frames = int(block_frames), int(max_block_frames)
        self._model, self._threads = None, threads

    def notes(self, signal, sr):
        """Notes of a signal (mono, or (samples, channels)) at sample rate `sr`."""
        from albumlib import audio

        signal = np.asarray(signal, dtype=np.float32)
        if signal.ndim == 2:
            signal = signal.mean(axis=1)
        signal = np.asarray(audio.resample(signal, sr, SAMPLE_RATE), dtype=np.float32)
        step = max(1, self.chunk_samples)
        return self._run(signal[i:i + step] for i in range(0, signal.size, step))

    def file(self, path):
        """Notes of an audio file, decoded by ffmpeg in chunks (AudioError if it cannot be)."""
        from albumlib import audio

        return self._run(audio.iter_audio_chunks(path, sr=SAMPLE_RATE,
                                                 chunk_samples=self.chunk_samples))

    def _run(self, chunks):
        """Notes of a stream of 22,050 Hz chunks: windows -> model -> notes, block by block."""
        if self._model is None:
            self._model = _Model(self.model_path, self._threads)
        windower, maker, pending = _Windower(), self._maker(), []
        for chunk in chunks:
            pending += windower.feed(chunk)
            while len(pending) >= BATCH:
                self._predict(pending[:BATCH], maker)
                pending = pending[BATCH:]
        pending += windower.finish()
        maker.limit = frames_in(windower.n_samples)
        for i in range(0, len(pending), BATCH):
            self._predict(pending[i:i + BATCH], maker)
        return _to_seconds(maker.finish())

    def _maker(self):
        """A fresh note maker with this transcriber's settings."""
        return _NoteMaker(self.onset_threshold, self.frame_threshold, self.min_frames,
                          self.melodia, self.block_frames, 256, self.max_block_frames)

    def _predict(self, windows, maker):
        """Run the model on a few windows and hand the kept frames to the note maker."""
        note, onset = self._model(np.stack(windows))
        kept = slice(HALF_OVERLAP, WINDOW_FRAMES - HALF_OVERLAP)
        maker.push(note[:, kept].reshape(-1, N_KEYS), onset[:, kept].reshape(-1, N_KEYS))


def _to_seconds(notes):
    """Frame-index notes -> (onset s, duration s, MIDI pitch, velocity), sorted by onset, pitch."""
    out = []
    for start, end, key, amplitude in notes:
        t0, t1 = frame_times([start, end])
        out.append((float(t0), float(t1 - t0), int(key) + MIDI_OFFSET,
                    float(min(max(amplitude, 0.0), 1.0))))
    out.sort(key=lambda n: (n[0], n[2]))
    return out


def transcribe(path_or_signal, sr=None, **options):
    """Notes of an audio file or of a signal at `sr`; options as `Transcriber` takes them."""
    transcriber = Transcriber(**options)
    if isinstance(path_or_signal, (str, os.PathLike)):
        return transcriber.file(path_or_signal)
    if sr is None:
        raise ValueError("a signal needs its sample rate: transcribe(signal, sr=...)")
    return transcriber.notes(path_or_signal, sr)


def note_f1(reference, estimate, onset_tolerance=0.05):
    """Note F1: same pitch, onsets within `onset_tolerance` s, matched one to one (mir_eval's)."""
    matched = 0
    for pitch in {int(n[2]) for n in reference} & {int(n[2]) for n in estimate}:
        ref = sorted(float(n[0]) for n in reference if int(n[2]) == pitch)
        est = sorted(float(n[0]) for n in estimate if int(n[2]) == pitch)
        i = j = 0
        while i < len(ref) and j < len(est):
            if abs(ref[i] - est[j]) <= onset_tolerance:
                matched, i, j = matched + 1, i + 1, j + 1
            elif ref[i] < est[j]:
                i += 1
            else:
                j += 1
    if not reference and not estimate:
        return 1.0
    return 2.0 * matched / (len(reference) + len(estimate)) if matched else 0.0
