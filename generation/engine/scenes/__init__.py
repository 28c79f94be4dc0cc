"""Scene layers the caller's words ask for (motifs: rain, snow, fire, stars).

The scenes themselves are the art direction's texture families (art/textures.py).
"""
