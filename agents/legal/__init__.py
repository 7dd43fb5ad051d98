"""Legal reasoning agent: SARA cases -> facts -> statutes in Prolog -> cited explanation."""

from agents.legal.explanation import ExplanationLine, explain, explain_answer, explanation_lines

__all__ = ["ExplanationLine", "explain", "explain_answer", "explanation_lines"]
