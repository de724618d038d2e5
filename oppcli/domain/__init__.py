"""The domain: opportunities and their rules (docs/rules.md), as pure functions over
pydantic models. No I/O, no click, no git: every rule is a unit test away."""
