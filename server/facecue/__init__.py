"""FaceCue: speech + a face photo + an emotion → a talking-face performance.

Importing the package is cheap and pulls in no heavy dependency; clients (Blender, Unreal)
use ``facecue.client`` and ``facecue.take`` with only grpcio, protobuf and numpy.
"""
__version__ = "0.1.0"
