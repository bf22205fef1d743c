"""The run pipeline: from what the user named (a program or an image, local or on an
origin) to what the Monitor starts.

  program.py    resolve a name: read or fetch it, check it (a static ELF, or an image
                validated member by member), and name its origin
  imagefile.py  an image as one read-only fd the picoprocess maps, which cannot change
                under it
  validated.py  the record of image bytes already validated (by their sha256)
  layers.py     a bare program's interposition layer, compiled from its profile
  defaults.py   what `run` applies unless told otherwise (a wall-clock limit)
  request.py    a run request (program, arguments, environment, limits) as the
                Monitor's start arguments
"""
