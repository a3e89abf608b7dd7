"""FaceCue for Unreal Editor: an ``unreal``-free core and a thin host layer over it."""
