"""The kernel: settings, errors and progress reporting. It imports nothing else of carepulse, so every
layer above may use it and none of it can pull a layer in."""
