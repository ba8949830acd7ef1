"""The district's structure and people: streets, centres, sites, kiosks, accounts and the demo district."""
