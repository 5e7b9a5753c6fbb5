"""The style phase: repainting photos in the style of paintings (notebooks 01 and 02).

losses and the VGG19 loss network (vgg), Gatys' optimisation (gatys), the transform network
(fast_style), its training (fast_train) and training photos (image_data, coco, photo_corpus
with its corpus_* parts), network files (style_nets), the paintings (styles), repainting albums
(stylize, color), the quality yardsticks (quality) and the commands of `python -m albumlib`
(commands).
"""
