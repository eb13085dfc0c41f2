"""Torch side of SkinMap: loads image encoders and writes one vector per image.

Imported only by the commands that embed, so that every other command starts
without importing torch.
"""
