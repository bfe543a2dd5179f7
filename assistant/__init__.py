"""mentor-assistant: reply tracking, follow-up drafts, padded deadlines and check-ins for a resident."""

__version__ = "0.1.0"
