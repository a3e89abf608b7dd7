"""What the plugin computes without Unreal: axes, curves, key reduction, manifests, asset plans."""
