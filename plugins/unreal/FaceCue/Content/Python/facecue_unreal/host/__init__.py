"""The thin ``unreal`` layer: assets, sequencer tracks, menu, settings, background work."""
