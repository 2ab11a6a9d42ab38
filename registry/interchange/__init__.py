"""Import and export of models: JSON Lines, CSV and XLSX in one interchange format."""
