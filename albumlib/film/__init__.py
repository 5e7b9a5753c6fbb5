"""Phase 3, the film (notebook 06): photos and a soundtrack assembled into an MP4.

Modules, in the order a film is made (importing this package imports none of them):

- options:    the option groups: Paint (what repaints), Play (what plays), Cut (how it is cut)
- canvas:     the frame size (presets, "WxH", even for yuv420p) and each photo laid out on it
              (letterbox or blur)
- timeline:   the frame-exact plan: each photo's slot, crossfade weights, cuts snapped to onsets,
              the film's length limit
- kenburns:   Ken Burns windows, subpixel resampling and one frame rendered from the canvases
- frames:     the photos checked and loaded when their turn comes, morphs, the frames in order
- soundtrack: the film's audio: decoded, loudness-normalised, cut to length, faded, streamed
- encode:     codecs and their fallbacks, timestamps, the ffmpeg encode and its check
- assemble:   `make_video`: all of the above, one film whole or not at all
- repaint:    phase 1 of the album film: styles resolved, photos repainted, style morphs
- album:      `make_album` (repaint, music, film, timed) and `make_demo`
- capture:    when each photo was taken (EXIF or the file's time), photos in that order
- events:     photos split into events by the gaps between them, with labels and film names
- titles:     title cards (an event's dates and name) drawn with Pillow
- films:      `make_films`: one film per event of a photo library
- commands:   the make-album, make-films and demo commands of `python -m albumlib`

The ffmpeg binary itself (finding, running, probing) is shared with the music: `albumlib.ffmpeg`;
so is onset detection, `albumlib.beats`, with which the cuts land on the music.
"""
