"""Knowledge layer: import formats, loaders, chunking, embeddings, the Chroma knowledge store, demo shop."""
