"""The Python baseline of the judge benchmark (`cargo bench --bench judge`;
docs/performance.md, "Judge calls").

What a careful hand-written judge loop looks like: the official `openai`
client (AsyncOpenAI, one pooled HTTP client), an asyncio semaphore for the
concurrency, one chat completion per conversation with the spec's judge
schema as `json_schema` structured output, and the parsed answers written
as JSON lines. No cache, no journal: each call is made once.

    python judge_baseline.py --base-url http://127.0.0.1:PORT/v1 \
        --system system.md --schema schema.json --requests requests.jsonl \
        --concurrency 64 --out answers.jsonl

`requests.jsonl` has one {"id", "transcript"} object a line (the transcript
in ftprep's input format). The key comes from OPENAI_API_KEY.
"""

import argparse
import asyncio
import json
import os
import sys

from openai import AsyncOpenAI


async def run(args):
    with open(args.system, encoding="utf-8") as f:
        system = f.read()
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    with open(args.requests, encoding="utf-8") as f:
        requests = [json.loads(line) for line in f if line.strip()]

    client = AsyncOpenAI(
        base_url=args.base_url,
        api_key=os.environ.get("OPENAI_API_KEY", "sk-bench"),
        max_retries=2,
        timeout=120,
    )
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "judge", "strict": True, "schema": schema},
    }
    extra = {} if args.no_schema else {"response_format": response_format}
    semaphore = asyncio.Semaphore(args.concurrency)

    async def judge(request):
        async with semaphore:
            response = await client.chat.completions.create(
                model=args.model,
                temperature=0,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": request["transcript"]},
                ],
                **extra,
            )
        choice = response.choices[0]
        if choice.finish_reason != "stop" or choice.message.content is None:
            raise RuntimeError(f"{request['id']}: finish_reason {choice.finish_reason}")
        content = choice.message.content
        answers = content if args.no_schema else json.loads(content)
        return {"id": request["id"], "answers": answers}

    results = await asyncio.gather(*(judge(r) for r in requests))
    await client.close()
    with open(args.out, "w", encoding="utf-8") as f:
        for result in results:
            f.write(json.dumps(result) + "\n")
    return len(results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", default="bench-judge")
    ap.add_argument("--system", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--no-schema",
        action="store_true",
        help="plain completions, without response_format",
    )
    args = ap.parse_args()
    n = asyncio.run(run(args))
    print(f"judged {n} conversations", file=sys.stderr)


if __name__ == "__main__":
    main()
