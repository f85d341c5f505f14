"""Measuring retrieval and answer quality on benchmark data in BEIR layout (``sluice eval``, ``make eval``).

dataset   read corpus ids, queries, qrels and gold answers
harness   ingest through ``IngestService`` into a cached state folder; search through ``QueryService``
metrics   nDCG, recall, MRR (ir-measures on trec_eval) and latency percentiles
answers   grounding, answer hit and abstention rates of ``QueryService.answer``
runner    one dataset, every mode, answers and the held-out abstention check
report    Markdown and PNG charts; publish writes docs/evaluation.md with the ablations
"""
