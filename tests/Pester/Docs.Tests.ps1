# One source for each fact in the docs: the help's parameter defaults, the output-property lists and the README's
# dry run are held to the code and run as written.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:modulePath = Join-Path $root 'out/CalStudio/CalStudio.psd1'
    Import-Module $modulePath -Force
    $script:assembly = [CalStudio.Response].Assembly
    $script:ceiling = $assembly.GetType('CalStudio.Engine.AdaptiveInFlightGate').GetField('DefaultCeiling').GetRawConstantValue()
    $script:unknownRateLevel = $assembly.GetType('CalStudio.Engine.AdaptiveInFlightGate').GetField('UnknownRateLevel').GetRawConstantValue()
    $script:connectDefaults = [CalStudio.Commands.ConnectCalStudioCommand]::new()

    # Each parameter's 'Default value:' line of a cmdlet's markdown help.
    function Get-HelpDefault([string] $cmdlet) {
        $text = Get-Content (Join-Path $root "src/CalStudio.PowerShell/help/$cmdlet.md") -Raw
        $result = [ordered]@{}
        foreach ($m in [regex]::Matches($text, '(?ms)^### -(\w+)\s*$.*?^Default value: (.*?)\s*$')) { $result[$m.Groups[1].Value] = $m.Groups[2].Value }
        $result
    }

    # The words a doc says a fact in, with line breaks and indentation of wrapped text taken out.
    function Get-Flat([string] $path) { (Get-Content (Join-Path $root $path) -Raw) -replace '\s+', ' ' }

    # The output columns a real batch writes after the input's own, in their order.
    $script:emu = Start-CalStudioEmulator -Key 'cs_docs_key'
    Connect-CalStudio -BaseUri $emu.Uri -AppName docs -ApiKey (ConvertTo-SecureString 'cs_docs_key' -AsPlainText -Force)
    $csv = [pscustomobject]@{ Id = 'D1'; Prompt = 'columns' } | Invoke-CalStudioPrompt -KeyProperty Id | ConvertTo-Csv -NoTypeInformation
    $script:columns = @(($csv[0] -split ',') | ForEach-Object { $_.Trim('"') } | Where-Object { $_ -ne 'Id' })
    $script:columnSentence = ($columns[0..($columns.Count - 2)] -join ', ') + ' and ' + $columns[-1]
}
AfterAll {
    Disconnect-CalStudio
    $script:emu | Stop-CalStudioEmulator
}

Describe 'Every parameter default in the help is the code''s own' {
    It 'Connect-CalStudio -<Name> says the default its C# initialiser gives' -ForEach @(
        'TimeoutSec', 'MaxRetries', 'ThrottleLimit', 'RetryDelaySec', 'MaxRetryWaitSec', 'HistorySize', 'BaseUri', 'Plan',
        'RequestsPerMinute', 'RequestsPerDay', 'Proxy', 'AppName', 'ApiKey', 'PassThru' | ForEach-Object { @{ Name = $_ } }
    ) {
        $said = (Get-HelpDefault 'Connect-CalStudio')[$Name]
        $said | Should -Not -BeNullOrEmpty
        $code = $connectDefaults.$Name
        $zero = if ($code -is [System.Management.Automation.SwitchParameter]) { -not $code.IsPresent }
            elseif ($null -eq $code) { $true }
            elseif ($code -is [enum]) { [int]$code -eq 0 }
            elseif ($code -is [ValueType]) { $code -eq 0 }
            else { $false }
        if ($zero) { $said | Should -Match '^(None|False)\b' -Because "the code gives -$Name no default" }
        elseif ($code -is [int] -or $code -is [double]) { [double]($said -split ' \(')[0] | Should -Be $code -Because "the code's default of -$Name is $code" }
        else { ($said -split ' \(')[0] | Should -Be ([string]$code).TrimEnd('/') -Because "the code's default of -$Name is $code" }
        if ($said -match 'up to (\d+)') { [int]$Matches[1] | Should -Be $ceiling }
    }

    It 'Invoke-CalStudioPrompt -<Name> names the session default with the value Connect-CalStudio really has' -ForEach @(
        @{ Name = 'MaxRetries' }, @{ Name = 'TimeoutSec' }, @{ Name = 'ThrottleLimit' }
    ) {
        $said = (Get-HelpDefault 'Invoke-CalStudioPrompt')[$Name]
        if ($said -match 'Connect-CalStudio -(\w+), (\d+)') {
            $Matches[1] | Should -Be $Name
            [int]$Matches[2] | Should -Be $connectDefaults.$Name
        }
        else { $said | Should -Match "Connect-CalStudio -$Name\b" }
        if ($said -match 'up to (\d+)') { [int]$Matches[1] | Should -Be $ceiling }
    }

    It 'has no default in the help for a parameter the code does not have' -ForEach @(
        'Connect-CalStudio', 'Invoke-CalStudioPrompt', 'Get-CalStudioResponse' | ForEach-Object { @{ Cmdlet = $_ } }
    ) {
        $parameters = (Get-Command $Cmdlet).Parameters.Keys
        foreach ($name in (Get-HelpDefault $Cmdlet).Keys) { $parameters | Should -Contain $name }
    }

    It 'says in about_CalStudio and the task script what the code does with -ThrottleLimit and -MaxRetries' {
        $about = Get-Flat 'src/CalStudio.PowerShell/help/about_CalStudio.help.txt'
        $about | Should -Not -Match 'ThrottleLimit, which defaults to \d'
        $about | Should -Match "-ThrottleLimit is only a ceiling \(default $ceiling\)"
        $about | Should -Match "While the rate is unknown it keeps $unknownRateLevel\."
        $about | Should -Match "-MaxRetries times \(default $($connectDefaults.MaxRetries)\)"
        $about | Should -Match "-RetryDelaySec \(default $($connectDefaults.RetryDelaySec) second"
        $about | Should -Match "-MaxRetryWaitSec \(default $($connectDefaults.MaxRetryWaitSec)\)"
        $about | Should -Match "-HistorySize responses, $($connectDefaults.HistorySize) by default"
        $script = Get-Flat 'samples/Invoke-CalStudioScheduledBatch.ps1'
        $script | Should -Match "default: the module's, $ceiling, a ceiling: .* $unknownRateLevel while the rate is unknown"
    }
}

Describe 'about_CalStudio covers templates and script blocks' {
    It 'explains -PromptTemplate and -Prompt { } with an example of each' {
        $about = Get-Flat 'src/CalStudio.PowerShell/help/about_CalStudio.help.txt'
        $about | Should -Match '-PromptTemplate builds each row''s prompt from its columns: \{Column\}'
        $about | Should -Match '\{\{ and \}\} are literal braces'
        $about | Should -Match "-PromptTemplate 'Summarise: \{Subject\}\. \{Body\}'"
        $about | Should -Match '-Prompt also takes a script block, run for each row with \$_ as the row'
        $about | Should -Match '-Prompt \{ "Summarise: \$\(\$_\.Subject'
    }
}

Describe 'Each output-property list matches the Response type and the CSV column order' {
    It 'writes every public property of CalStudio.Response, each once' {
        $columns | Sort-Object | Should -Be (@([CalStudio.Response].GetProperties().Name) | Sort-Object)
    }

    It 'lists them in the README table in the CSV''s order' {
        $readme = Get-Content (Join-Path $root 'README.md') -Raw
        $table = [regex]::Match($readme, '(?s)\| Property \| What it holds \|.*?\n\s*\n').Value
        $table | Should -Not -BeNullOrEmpty
        $named = @(foreach ($line in $table -split "`n" | Where-Object { $_ -match '^\s*\| `' }) {
            [regex]::Matches(($line -split '\|')[1], '`(\w+)`') | ForEach-Object { $_.Groups[1].Value }
        })
        $named | Should -Be $columns
    }

    It 'lists them in <Doc> in the CSV''s order' -ForEach @(
        @{ Doc = 'src/CalStudio.PowerShell/help/Invoke-CalStudioPrompt.md' }, @{ Doc = 'src/CalStudio.PowerShell/help/about_CalStudio.help.txt' }
    ) {
        $flat = Get-Flat $Doc
        $flat.Contains($columnSentence) | Should -BeTrue -Because "$Doc should name the properties as: $columnSentence"
        $lists = [regex]::Matches($flat, '\bPrompt, AppName, FileUrl\b')
        foreach ($m in $lists) {
            $start = [Math]::Max(0, $m.Index - 300)
            $flat.Substring($start, $m.Index - $start) | Should -Match 'CompletedAt( \([^)]*\))?, $' -Because 'every list in the docs starts as the CSV does'
        }
    }
}

Describe 'The README''s dry-run section runs as written' {
    It 'starts the emulator it names, runs its PowerShell commands against it, and answers every row of the sample CSV it names' {
        $readme = Get-Content (Join-Path $root 'README.md') -Raw
        $section = [regex]::Match($readme, '(?s)## Dry-run against the local emulator(.*?)\n## ').Groups[1].Value
        $emulatorLine = [regex]::Match($section, '(?m)^dotnet run --project src/CalStudio\.Emulator -- (.+)$').Groups[1].Value
        $commands = [regex]::Match($section, '(?s)```powershell\r?\n(.*?)```').Groups[1].Value
        $emulatorLine | Should -Not -BeNullOrEmpty
        $commands | Should -Not -BeNullOrEmpty
        # The port is the only change: the test takes a free one. The key is the one the README's emulator line gives.
        $words = @($emulatorLine -split '\s+')
        $port = $words[[array]::IndexOf($words, '--port') + 1]
        $key = $words[[array]::IndexOf($words, '--key') + 1]
        $rest = [System.Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt $words.Count; $i++) { if ($words[$i] -in '--port', '--key') { $i++ } else { $rest.Add($words[$i]) } }
        $dryEmu = Start-CalStudioEmulator -Key $key -ArgumentList $rest.ToArray()
        try {
            $out = Join-Path $TestDrive 'dry-run.csv'
            $script = "Set-Location '$root'; `$ErrorActionPreference = 'Stop'`n" +
                $commands.Replace("http://127.0.0.1:$port", $dryEmu.Uri.AbsoluteUri.TrimEnd('/')).Replace('dry-run.csv', "'$out'")
            $p = Start-PwshProcess -Script $script
            $stderr = $p.StandardError.ReadToEndAsync()
            $null = $p.StandardOutput.ReadToEnd()
            $p.WaitForExit(120000) | Should -BeTrue
            $p.ExitCode | Should -Be 0 -Because $stderr.Result
            $named = [regex]::Match($commands, 'Import-Csv (\S+)').Groups[1].Value
            Join-Path $root $named | Should -Exist
            $rows = @(Import-Csv $out)
            $rows.Count | Should -Be @(Import-Csv (Join-Path $root $named)).Count
            $rows.Success | Should -Not -Contain 'False'
        }
        finally { $dryEmu | Stop-CalStudioEmulator }
    }
}
