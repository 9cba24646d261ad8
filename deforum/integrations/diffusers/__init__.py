"""Parts of the standalone diffusers model service: loading, samplers, noise, prompts, sampling loop."""
