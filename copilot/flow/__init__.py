"""Flow: a team's flow of steps, and where a conversation stands in it (the step tracker and the learned step
model)."""
