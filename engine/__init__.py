"""Switchyard's DAG engine: pure Python, no Django. The runtime adapts it (workflows/runtime.py)."""
