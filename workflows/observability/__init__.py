"""How a run went: its timeline (spans, critical path, efficiency), pictures of its DAG and
why each node did what it did."""
