"""`python -m sandbox cost`: the monthly cost and the capacity of a stack, measured in the sandbox.

measure (run the samples, meter every AWS call) -> model (scale to the volume, price, fixed costs)
-> drivers (what to change) -> capacity -> report (table, JSON, pull-request diff).
"""
