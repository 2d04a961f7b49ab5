"""Exports: the Export type and the mutation that starts one; `gateway.background.exports` writes the file."""
