-- Drives `ftprep lsp` through Neovim's own LSP client, headless, for
-- tests/neovim.rs. Runs on Neovim 0.7 and later: only APIs that 0.7 has,
-- and the newer `vim.lsp.start` where it exists (0.8+), so that newer
-- versions print no deprecation warning.
--
-- In (environment):
--   FTPREP_BIN         the ftprep binary; the server is `$FTPREP_BIN lsp`
--   FTPREP_SPEC        the spec to open; its directory is the root_dir
--   FTPREP_OUT         where to write the JSON report
--   FTPREP_HOVER_LINE  0-based line of the hover request
--   FTPREP_HOVER_CHAR  0-based UTF-16 character of the hover request
--   FTPREP_TIMEOUT_MS  how long to wait for each answer (default 20000)
--
-- Out: FTPREP_OUT holds one JSON object:
--   { nvim, offset_encoding, diagnostics = [{message, code, source,
--     severity, lnum, col, end_lnum, end_col}], hover, error }
-- and Neovim exits 0, or with 1 when something timed out or failed (the
-- report is still written, with `error` saying what).

local report = { diagnostics = {}, hover = '', error = '' }

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == '' then
    error('environment variable ' .. name .. ' is not set')
  end
  return value
end

local function write_report()
  local out = os.getenv('FTPREP_OUT')
  if out and out ~= '' then
    vim.fn.writefile({ vim.fn.json_encode(report) }, out)
  end
end

local function hover_text(result)
  if result == nil or result.contents == nil then
    return ''
  end
  local contents = result.contents
  if type(contents) == 'string' then
    return contents
  end
  if contents.value ~= nil then -- MarkupContent or MarkedString
    return contents.value
  end
  local parts = {} -- MarkedString[]
  for _, part in ipairs(contents) do
    table.insert(parts, type(part) == 'string' and part or part.value)
  end
  return table.concat(parts, '\n')
end

local function run()
  local v = vim.version()
  report.nvim = string.format('%d.%d.%d', v.major, v.minor, v.patch)

  local bin = env('FTPREP_BIN')
  local spec = env('FTPREP_SPEC')
  local hover_line = tonumber(env('FTPREP_HOVER_LINE'))
  local hover_char = tonumber(env('FTPREP_HOVER_CHAR'))
  local timeout = tonumber(os.getenv('FTPREP_TIMEOUT_MS') or '') or 20000

  vim.cmd('edit ' .. vim.fn.fnameescape(spec))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = 'ftprep'
  local uri = vim.uri_from_bufnr(bufnr)

  -- Notes that the server published diagnostics for this buffer, even an
  -- empty list, then lets Neovim's own handler store them.
  local published = false
  local function on_publish(err, result, ctx, config)
    if result and result.uri == uri then
      published = true
    end
    local store = vim.lsp.diagnostic.on_publish_diagnostics
      or vim.lsp.handlers['textDocument/publishDiagnostics']
    return store(err, result, ctx, config)
  end

  local exited = false
  local config = {
    name = 'ftprep',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.fnamemodify(spec, ':p:h'),
    handlers = { ['textDocument/publishDiagnostics'] = on_publish },
    on_exit = function()
      exited = true
    end,
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config) -- attaches the current buffer
  else
    client_id = vim.lsp.start_client(config)
    if client_id then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
  end
  if not client_id then
    error('the LSP client did not start: ' .. bin .. ' lsp')
  end

  if not vim.wait(timeout, function()
    return published
  end, 50) then
    error('no diagnostics were published within ' .. timeout .. ' ms')
  end
  local client = vim.lsp.get_client_by_id(client_id)
  report.offset_encoding = client and client.offset_encoding or ''

  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then
      code = d.user_data.lsp.code
    end
    table.insert(report.diagnostics, {
      message = d.message,
      code = code,
      source = d.source,
      severity = d.severity,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
    })
  end

  local responses, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', {
    textDocument = { uri = uri },
    position = { line = hover_line, character = hover_char },
  }, timeout)
  if responses == nil then
    error('hover failed: ' .. tostring(err))
  end
  local response = responses[client_id]
  if response == nil then
    error('no hover answer from the ftprep client')
  end
  if response.err or response.error then
    error('hover answered with an error: ' .. vim.inspect(response.err or response.error))
  end
  report.hover = hover_text(response.result)

  if vim.lsp.stop_client then
    vim.lsp.stop_client(client_id)
  elseif client then
    client:stop()
  end
  if not vim.wait(timeout, function()
    return exited
  end, 50) then
    error('the server did not exit after shutdown within ' .. timeout .. ' ms')
  end
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  report.error = tostring(err)
  io.stderr:write('lsp_check.lua: ' .. report.error .. '\n')
end
write_report()
if ok then
  vim.cmd('qa!')
else
  vim.cmd('cquit 1')
end
