"""The demo city: a deterministic generator for the embedded ``sql`` backend."""
