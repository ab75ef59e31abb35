"""Bringing a team's own files in: customers, orders and interactions from CSV or Excel.

The pure layer needs no database: ``reading`` opens a file whatever its encoding, delimiter
and header and streams its rows as text with their line numbers; ``values`` reads the dates,
times, amounts and currencies people put in spreadsheets; ``mapping`` names the fields each
kind of import fills and suggests which column feeds which, from English and German headers.
The engine above them matches rows to customers, checks every row with the validators the
edit form uses, and commits a whole file in one transaction.
"""
