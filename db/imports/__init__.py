"""Bringing a team's own customers, orders and interactions in from CSV and Excel files."""
