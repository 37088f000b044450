"""Files in: scenarios, tables, coordinates, walking networks, and the problem built from them."""
