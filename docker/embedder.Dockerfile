# The SkinMap CLI with CUDA torch, for `skinmap embed --device cuda` next to the pgvector database.
FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime
WORKDIR /opt/skinmap
COPY . .
RUN pip install --no-cache-dir -e '.[embed]'
ENTRYPOINT []
CMD ["skinmap", "--help"]
