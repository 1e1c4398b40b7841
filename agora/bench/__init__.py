"""Benchmarks run by hand: `agora bench ingest`, …"""
