"""The music phase: a soundtrack composed by a network trained on music (notebooks 03, 04 and 05).

The report's FFT-block model, its variants, generation and bundles (report), its dataset of FFT
blocks on disk (dataset) and training (report_train); the numpy synthesiser (synth); the measures
of composed audio (metrics) and of composed notes (note_metrics).
"""
