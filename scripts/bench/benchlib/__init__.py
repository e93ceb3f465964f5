"""`make bench`, in pieces (scripts/bench/bench.py is the main):

  settings   what is measured and how often, the targets of issues 6 and 12
  schema     the DynamoDB keys and items (the one Python place a key prefix is spelled)
  stats      percentiles and how numbers are printed
  database   what the bench writes to DynamoDB itself: sessions, floor users
  calls      the bench's users, and the event each function is called with
  emulator   the Lambda emulator of scripts/local/rie.py, timed
  floors     the same DynamoDB calls from bare clients (bench/dynamo-floor, boto3)
  cold       1. cold start                 warm     2. warm latency, peak RSS
  bcrypt     3. login next to bcrypt       load     4. HTTP load on status
  size       5. zipped bootstrap and RSS   trips    6. DynamoDB requests per call
  rs256      7. RS256 next to HS256      secrets  8. keys from Secrets Manager
  ledger     9. the latency ledger         second_factor  10. two-step sign-in
  token_hook 11. login and refresh with a token hook
  verifier   12. shared/verify's warm verify next to Tokens::verify
  passkeys   13. passkeys          federation 14. another provider's sign-in, webhooks
  cpu        15. CPU and instructions per status call (also scripts/bench/cpu.sh)
  report     the table and bench/results.md
"""
