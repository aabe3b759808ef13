"""Heart-rate sensors: protocol decoders, serial transport, signal quality, a simulated client."""
