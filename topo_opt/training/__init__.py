"""Training: model descriptions (`model`), layouts (`layout`), the step-time model (`steptime`),
collective times from the scorer (`comm`) and the layout search (`search`)."""
