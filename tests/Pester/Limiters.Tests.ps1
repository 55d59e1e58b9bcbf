# One real-socket run per way a rate limiter refuses (issue 18): the IETF header forms (drafts 6, 7 and 8, with a 429),
# a bare 429 with no headers at all, and a proxy's HTML 503 with no headers. Every prompt is answered once, the
# emulator's refusals are the requests beyond the prompts, and Get-CalStudioConnection and the -Verbose summary say
# what was obeyed. The issue's refusal bounds are asserted exactly by the simulator (RefusalLearnerTests, a virtual
# clock) and measured by the bench (-Bench -BenchFilter limiters); over real sockets on a loaded machine a burst can
# straddle a window boundary, so these bounds are looser: unpaced, the same runs meet dozens.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force

    function Get-Refused($stats) {
        $n = 0
        foreach ($code in '429', '503') { if ($stats.statusCounts.PSObject.Properties[$code]) { $n += [int] $stats.statusCounts.$code } }
        $n
    }

    function Invoke-LimiterRun($emu, [string] $key, [string] $prefix) {
        Connect-CalStudio -ApiKey (ConvertTo-SecureString $key -AsPlainText -Force) -BaseUri $emu.Uri -AppName 'limit' -RetryDelaySec 0.1
        $before = Get-CalStudioEmulatorStats $emu
        $all = @(1..25 | ForEach-Object { "$prefix $_" } | Invoke-CalStudioPrompt -Verbose 4>&1)
        $stats = Get-CalStudioEmulatorStats $emu
        $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        [pscustomobject]@{
            Answered   = @($out | Where-Object Success).Count
            Distinct   = @($out | Where-Object Success | ForEach-Object Prompt | Sort-Object -Unique).Count
            Refused    = (Get-Refused $stats) - (Get-Refused $before)
            Requests   = [int] $stats.requests - [int] $before.requests
            Summary    = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'CalStudio batch:*' })[0].Message
            Connection = Get-CalStudioConnection
        }
    }

    function Start-Limiter([string] $key, [string[]] $style) {
        Start-CalStudioEmulator -Key $key -ArgumentList (@('--rpm', '10', '--window-ms', '2000', '--latency-ms', '10-30') + $style)
    }
}

Describe 'Pacing by the IETF RateLimit header forms' {
    It 'answers every prompt once, with few refusals, and says what it obeyed: <Form>' -ForEach @(
        @{ Form = 'draft6'; Pacing = 'RateLimit-Limit 10 per 2 s \(draft 6\)' }
        @{ Form = 'draft7'; Pacing = 'RateLimit-Policy 10;w=2 \(draft 7\)' }
        @{ Form = 'draft8'; Pacing = 'RateLimit-Policy q=10;w=2' }
    ) {
        $key = "cs_test_$([guid]::NewGuid().ToString('N'))"
        $emu = Start-Limiter $key '--window-kind', 'fixed', '--rate-headers', $Form
        try {
            $r = Invoke-LimiterRun $emu $key "ietf $Form"
            $r.Answered | Should -Be 25
            $r.Distinct | Should -Be 25
            $r.Refused | Should -BeLessOrEqual 4
            $r.Requests | Should -Be (25 + $r.Refused)
            $r.Connection.RateLimit | Should -Be 10
            $r.Connection.Pacing | Should -Match $Pacing
            $r.Summary | Should -Match "; $($r.Refused) refused by the rate limiter; pacing: "
        }
        finally { $emu | Stop-CalStudioEmulator }
    }
}

Describe 'Learning the rate from refusals that say nothing' {
    It 'answers every prompt once, learns the rate, and a second run starts from it: <Refusal> from a <Kind> window' -ForEach @(
        @{ Kind = 'fixed'; Refusal = '429'; Status = '429s' }
        @{ Kind = 'bucket'; Refusal = '429'; Status = '429s' }
        @{ Kind = 'bucket'; Refusal = '503-html'; Status = 'HTTP 503 pages' }
    ) {
        $key = "cs_test_$([guid]::NewGuid().ToString('N'))"
        $emu = Start-Limiter $key '--window-kind', $Kind, '--rate-headers', 'none', '--refusal', $Refusal
        try {
            $first = Invoke-LimiterRun $emu $key "bare $Refusal first"
            $first.Answered | Should -Be 25
            $first.Distinct | Should -Be 25
            $first.Refused | Should -BeGreaterThan 0   # the limiter was met, so what follows is learned
            $first.Refused | Should -BeLessOrEqual 12
            $first.Requests | Should -Be (25 + $first.Refused)
            $first.Connection.Pacing | Should -Match "^learned [0-9.]+/s from $Status without headers$"
            $first.Summary | Should -Match "; $($first.Refused) refused by the rate limiter; pacing: learned "

            # The next run on the key (a new session, as a new process would be) starts from the learned rate, not a burst.
            $second = Invoke-LimiterRun $emu $key "bare $Refusal second"
            $second.Answered | Should -Be 25
            $second.Refused | Should -BeLessOrEqual 4
            $second.Requests | Should -Be (25 + $second.Refused)
        }
        finally { $emu | Stop-CalStudioEmulator }
    }
}
