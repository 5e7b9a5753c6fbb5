"""The music phase: a soundtrack composed by a network trained on music (notebooks 03, 04 and 05).

The note path (the default): MIDI files (midi) and recordings transcribed to notes (transcribe),
public-domain scores to pre-train on (corpus), notes as tokens (tokens), the note LSTM and its
sampler (symbolic), its training (note_train) and files (note_bundle), learning from a folder of
the user's music (learn). The report's path: its FFT-block model, variants, generation and
bundles (report), its dataset of FFT blocks on disk (dataset) and training (report_train). Shared:
the numpy synthesiser (synth), either model to audio or a file, streamed (soundtrack), measures of
composed audio (metrics) and notes (note_metrics), and the train-music and compose commands
(commands).
"""
