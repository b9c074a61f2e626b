"""Model data shipped with the package (MJCF fragments, textures, README pictures)."""
