"""The article graph (issue 6): LangGraph state machine of role-based agents and three writers."""
