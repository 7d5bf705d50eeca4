-- wrk script for bench.ingest: chairs stream delivery events to POST /api/v1/agent/events, as the agent's sender
-- does, with the load generated in C and LuaJIT rather than in Python beside the server.
--
-- Script arguments: batch size, pulses per train, then the treatment session ids, one chair each. Each request
-- carries the next `batch` events of the next chair in turn: train start, one report per pulse, train end, and
-- again with the next train. Every event has a fresh (device, device_session, seq) key, so all are new to the
-- service; wrk keeps at most one request per connection in flight.

local batch, per_train
local chairs = {}
local turn = 0

function init(args)
  batch = tonumber(args[1])
  per_train = tonumber(args[2])
  local start = os.time()
  for i = 3, #args do
    chairs[#chairs + 1] = {id = tonumber(args[i]), seq = 0, train = 1, pulse = -1, clock = start}
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function stamp(chair)
  -- 100 ms between a chair's events, from the run's start
  local ms = chair.seq * 100
  return os.date("!%Y-%m-%dT%H:%M:%S", chair.clock + math.floor(ms / 1000)) .. string.format(".%03dZ", ms % 1000)
end

local function next_event(chair)
  chair.seq = chair.seq + 1
  local kind, payload
  if chair.pulse < 0 then
    kind = "train_started"
    payload = string.format('{"train":%d,"planned_pulses":%d}', chair.train, per_train)
  elseif chair.pulse < per_train then
    kind = "pulses_delivered"
    payload = string.format('{"count":1,"total":%d,"train":%d}', (chair.train - 1) * per_train + chair.pulse + 1,
                            chair.train)
  else
    kind = "train_ended"
    payload = string.format('{"train":%d,"delivered_pulses":%d,"completed":true}', chair.train, per_train)
  end
  chair.pulse = chair.pulse + 1
  if chair.pulse > per_train then
    chair.train, chair.pulse = chair.train + 1, -1
  end
  return string.format('{"device":"DEV-%d","device_session":"s%d","seq":%d,"session_id":%d,"kind":"%s","at":"%s",'
                       .. '"payload":%s}', chair.id, chair.id, chair.seq, chair.id, kind, stamp(chair), payload)
end

function request()
  turn = turn % #chairs + 1
  local chair = chairs[turn]
  local events = {}
  for i = 1, batch do
    events[i] = next_event(chair)
  end
  return wrk.format(nil, "/api/v1/agent/events", nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end
