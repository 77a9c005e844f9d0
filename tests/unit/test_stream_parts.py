"""The part sizes of a stream of unknown length (tui/transfer/stream.py): S3's 5 TiB fits in 10,000 parts, Azure's
blocks in 50,000, every part within the stores' limits."""

from __future__ import annotations

from tui.transfer.stream import MAX_STREAM_PART, stream_capacity, stream_part_size

MiB = 1024 * 1024
TiB = 1024 * 1024 * MiB


def test_s3_parts_grow_so_that_5_tib_fits_in_10000() -> None:
    sizes = [stream_part_size(n, base=8 * MiB, max_parts=10_000) for n in range(1, 10_001)]
    assert sizes[0] == sizes[999] == 8 * MiB  # the first thousand parts are the configured size
    assert sizes[1000] == 16 * MiB  # then doubled every thousand
    assert sizes == sorted(sizes)
    assert min(sizes) >= 5 * MiB and max(sizes) <= 5 * 1024 * MiB  # S3's smallest and largest part
    assert sum(sizes) >= 5 * TiB
    assert stream_capacity(base=8 * MiB, max_parts=10_000) == sum(sizes)
    # the smallest part size S3 allows fits 5 TiB too
    assert stream_capacity(base=5 * MiB, max_parts=10_000) >= 5 * TiB


def test_azure_blocks_and_large_bases_stay_within_the_largest_block() -> None:
    assert stream_capacity(base=8 * MiB, max_parts=50_000) >= 5 * TiB
    assert stream_part_size(50_000, base=8 * MiB, max_parts=50_000) <= MAX_STREAM_PART == 4000 * MiB
    assert stream_part_size(1, base=64 * MiB, max_parts=10_000) == 64 * MiB
    assert stream_part_size(10_000, base=64 * MiB, max_parts=10_000) == MAX_STREAM_PART
