using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using CalStudio.Answers;
using CalStudio.Client;
using CalStudio.Engine;
using Xunit;

namespace CalStudio.Tests
{
    /// <summary>-ResponseFormat Json: finding the object, the schema subset, the re-ask text and the stage's decisions.</summary>
    public class JsonAnswerTests
    {
        private const string TicketSchema = @"{
  ""type"": ""object"",
  ""required"": [""category"", ""priority""],
  ""properties"": {
    ""category"": { ""type"": ""string"", ""enum"": [""Hardware"", ""Software"", ""Access""] },
    ""priority"": { ""type"": ""integer"", ""minimum"": 1, ""maximum"": 5 },
    ""summary"": { ""type"": ""string"", ""maxLength"": 80 },
    ""due"": { ""type"": ""string"", ""pattern"": ""^\\d{4}-\\d{2}-\\d{2}$"" },
    ""tags"": { ""type"": ""array"", ""items"": { ""type"": ""string"", ""minLength"": 1 } }
  }
}";

        private static Extraction Found(string message)
        {
            var e = JsonAnswerExtractor.Extract(message);
            Assert.True(e.Found, e.Error);
            return e;
        }

        // ---- extraction ----

        [Fact]
        public void The_whole_message_is_taken_first_with_its_surrounding_white_space()
        {
            var e = Found("  \n{\"category\":\"Access\",\"priority\":2}\n ");
            Assert.Equal(AnswerSource.Whole, e.Source);
            Assert.Equal("Access", e.Value["category"]);
            Assert.Equal(2.0, e.Value["priority"]);
        }

        [Theory]
        [InlineData("Here you go:\n```json\n{\"category\":\"Software\"}\n```\nAnything else?")]
        [InlineData("```\n{\"category\":\"Software\"}\n```")]
        [InlineData("```JSON\n{\"category\":\"Software\"}```")]
        public void A_fenced_block_is_found_with_or_without_the_json_tag(string message)
        {
            var e = Found(message);
            Assert.Equal(AnswerSource.Fenced, e.Source);
            Assert.Equal("Software", e.Value["category"]);
        }

        [Fact]
        public void In_prose_the_first_balanced_object_is_taken_and_braces_inside_its_strings_do_not_end_it()
        {
            var e = Found("Sure. My answer is {\"category\":\"Hardware\",\"summary\":\"tray {2} jams }\"} and {\"category\":\"Access\"} too.");
            Assert.Equal(AnswerSource.Prose, e.Source);
            Assert.Equal("Hardware", e.Value["category"]);
            Assert.Equal("tray {2} jams }", e.Value["summary"]);
        }

        [Fact]
        public void In_prose_a_brace_that_is_not_JSON_is_passed_over_for_the_object_after_it()
        {
            var e = Found("Template {Subject} filled; the answer: {\"priority\": 4}");
            Assert.Equal(AnswerSource.Prose, e.Source);
            Assert.Equal(4.0, e.Value["priority"]);
        }

        [Theory]
        [InlineData("{'category': 'Hardware', 'priority': 3}", "the answer is not valid JSON")]
        [InlineData("This looks like a Hardware issue.", "the answer holds no JSON object")]
        [InlineData("[1, 2, 3]", "the answer is JSON but not an object")]
        [InlineData("{\"category\": \"Hard", "the answer is not valid JSON")]
        [InlineData("   ", "the answer is empty")]
        public void No_usable_object_is_said_in_plain_words(string message, string reason)
        {
            var e = JsonAnswerExtractor.Extract(message);
            Assert.False(e.Found);
            Assert.StartsWith(reason, e.Error);
        }

        [Fact]
        public void Duplicates_lone_surrogates_and_dates_behave_as_the_module_s_JSON_reader_does()
        {
            Assert.Equal("second", Found("{\"a\":\"first\",\"a\":\"second\"}").Value["a"]); // the last one wins
            Assert.False(JsonAnswerExtractor.Extract("{\"a\":\"\\ud800\"}").Found);         // a lone surrogate escape is refused
            Assert.Equal("\ud83d\ude00", Found("{\"a\":\"\\ud83d\\ude00\"}").Value["a"]);
            var due = Found("{\"due\":\"2026-01-15T10:00:00Z\"}").Value["due"];
            Assert.IsType<string>(due);                                                       // never a DateTime
            Assert.Equal("2026-01-15T10:00:00Z", due);
        }

        [Fact]
        public void A_hostile_message_of_braces_costs_a_bounded_number_of_parses()
        {
            string hostile = string.Concat(Enumerable.Repeat("{x} ", 50000));
            Assert.False(JsonAnswerExtractor.Extract(hostile).Found);
        }

        // ---- the schema subset ----

        private static IReadOnlyList<string> Errors(string json, string schema = TicketSchema) =>
            SchemaValidator.Validate(CalStudio.Client.Json.Parse(json), ResponseSchema.Parse(schema));

        [Fact]
        public void A_valid_answer_has_no_errors()
        {
            Assert.Empty(Errors("{\"category\":\"Access\",\"priority\":1,\"summary\":\"ok\",\"due\":\"2026-01-02\",\"tags\":[\"a\"],\"extra\":true}"));
        }

        [Fact]
        public void Errors_name_the_property_the_value_and_the_rule_in_plain_words()
        {
            var errors = Errors("{\"category\":\"Printers\",\"priority\":7}");
            Assert.Equal(new[] { "category: 'Printers' is not one of Hardware, Software, Access", "priority: 7 is above the maximum 5" }, errors);
            Assert.Equal(new[] { "category: is missing (it is required)", "priority: 0 is below the minimum 1" }, Errors("{\"priority\":0}"));
            Assert.Equal(new[] { "priority: 2.5 is not an integer" }, Errors("{\"category\":\"Access\",\"priority\":2.5}"));
            Assert.Equal(new[] { "priority: 'high' is not an integer" }, Errors("{\"category\":\"Access\",\"priority\":\"high\"}"));
            Assert.Equal(new[] { "due: '15/01/2026' does not match the pattern ^\\d{4}-\\d{2}-\\d{2}$" }, Errors("{\"category\":\"Access\",\"priority\":1,\"due\":\"15/01/2026\"}"));
            Assert.Equal(new[] { "tags[1]: is 0 characters long, shorter than the minimum 1" }, Errors("{\"category\":\"Access\",\"priority\":1,\"tags\":[\"a\",\"\"]}"));
            Assert.Equal(new[] { "the answer [] is not an object" }, Errors("[]"));
        }

        [Fact]
        public void Lengths_count_characters_as_a_reader_does_not_UTF16_units()
        {
            const string schema = "{\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":2}}}";
            Assert.Empty(Errors("{\"s\":\"\\ud83d\\ude00é\"}", schema));
            Assert.Single(Errors("{\"s\":\"abc\"}", schema));
        }

        [Fact]
        public void A_minimum_length_is_counted_in_characters_even_when_the_UTF16_units_are_enough()
        {
            const string schema = "{\"properties\":{\"s\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":1}}}";
            Assert.Equal(new[] { "s: is 1 characters long, shorter than the minimum 2" }, Errors("{\"s\":\"\\ud83d\\ude00\"}", schema));
            Assert.Equal(new[] { "s: is 2 characters long, longer than the maximum 1" }, Errors("{\"s\":\"ab\"}", schema));
        }

        [Fact]
        public void Known_names_read_as_the_same_strings_and_change_no_verdict()
        {
            var names = new[] { "category", "a\"b", "a\nb", "" };
            foreach (string json in new[] { "{\"category\":1,\"c\\u0061tegory\":2,\"categoryX\":3,\"\":4,\"category\":5}", "{\"a\\\"b\":1,\"a\\nb\":2}", "{\"cat\":1}" })
                Assert.Equal(CompactJson.Write(CalStudio.Client.Json.Parse(json)), CompactJson.Write(CalStudio.Client.Json.Parse(json, names)));
            var parsed = (Dictionary<string, object>)CalStudio.Client.Json.Parse("{\"category\":1}", names);
            Assert.Same(names[0], parsed.Keys.Single());
            // A name the schema spells with a control character is still refused raw in an answer, as without names.
            Assert.Throws<FormatException>(() => CalStudio.Client.Json.Parse("{\"a\nb\":1}", names));
        }

        [Fact]
        public void AdditionalProperties_false_refuses_extra_properties()
        {
            const string schema = "{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":false}";
            Assert.Equal(new[] { "b: is not an allowed property" }, Errors("{\"a\":1,\"b\":2}", schema));
            Assert.Empty(Errors("{\"a\":1}", schema));
        }

        [Theory]
        [InlineData("{\"type\":\"object\",\"oneOf\":[]}", "'oneOf' at (root)")]
        [InlineData("{\"properties\":{\"due\":{\"type\":\"string\",\"format\":\"date\"}}}", "'format' at due")]
        [InlineData("{\"properties\":{\"a\":{\"const\":1,\"$ref\":\"#\"}}}", "the keywords 'const', '$ref' at a")]
        [InlineData("{\"items\":{\"uniqueItems\":true}}", "'uniqueItems' at (root)[]")]
        public void A_keyword_outside_the_subset_is_refused_by_name(string schema, string named)
        {
            var ex = Assert.Throws<SchemaException>(() => ResponseSchema.Parse(schema));
            Assert.Contains(named, ex.Message);
            Assert.Contains("outside the supported subset", ex.Message);
        }

        [Theory]
        [InlineData("{\"additionalProperties\":{\"type\":\"string\"}}", "must be true or false")]
        [InlineData("{\"type\":\"date\"}", "'type' must be one of")]
        [InlineData("{\"pattern\":\"(\"}", "not a valid regular expression")]
        [InlineData("{\"maxLength\":-1}", "whole number")]
        [InlineData("{\"enum\":[]}", "non-empty array")]
        [InlineData("not json", "not valid JSON")]
        public void A_malformed_schema_is_refused_saying_what_is_wrong(string schema, string reason)
        {
            Assert.Contains(reason, Assert.Throws<SchemaException>(() => ResponseSchema.Parse(schema)).Message);
        }

        [Fact]
        public void Annotations_are_accepted_and_the_schema_id_follows_its_text()
        {
            var a = ResponseSchema.Parse("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"t\",\"description\":\"d\",\"type\":\"object\"}");
            Assert.Equal(16, a.Id.Length);
            Assert.Equal(ResponseSchema.Parse(TicketSchema).Id, ResponseSchema.Parse(TicketSchema + "\n").Id);
            Assert.NotEqual(ResponseSchema.Parse(TicketSchema).Id, ResponseSchema.Parse(TicketSchema.Replace("\"maximum\": 5", "\"maximum\": 3")).Id);
        }

        // ---- the re-ask ----

        [Fact]
        public void The_reask_carries_the_prompt_the_shortened_answer_the_errors_and_asks_for_the_JSON_alone()
        {
            string previous = "Sure! " + new string('x', 1000);
            string text = ReaskPrompt.Build("Classify: printer jams", previous, new[] { "priority: 7 is above the maximum 5", "category: 'Printers' is not one of Hardware, Software, Access" });
            Assert.StartsWith(ReaskPrompt.Opening + " What was wrong: priority: 7 is above the maximum 5; category: 'Printers' is not one of Hardware, Software, Access.", text);
            Assert.Contains("The request was:\n<<<\nClassify: printer jams\n>>>", text);
            Assert.Contains("Your previous answer was:\n<<<\nSure! " + new string('x', ReaskPrompt.MaxPreviousChars - 6) + "…\n>>>", text);
            Assert.EndsWith("Answer the request again with the JSON object alone: no other text, no code fence.", text);
        }

        [Fact]
        public void Shortening_never_leaves_half_a_surrogate_pair()
        {
            string cut = ReaskPrompt.Shorten(new string('a', 9) + "\ud83d\ude00zzz", 10);
            Assert.Equal(-1, RowInput.LoneSurrogateAt(cut));
        }

        // ---- the stage ----

        private static ApiOutcome Answer(string message) => new ApiOutcome { Kind = OutcomeKind.Success, StatusCode = 200, Message = message, RequestId = "req_1" };

        /// <summary>A send that answers from a script and records each prompt it was given.</summary>
        private sealed class ScriptedSend
        {
            private readonly Queue<Func<SendResult>> _answers;
            public ScriptedSend(params Func<SendResult>[] answers) { _answers = new Queue<Func<SendResult>>(answers); }
            public List<string> Prompts { get; } = new List<string>();
            public Task<SendResult> Send(PromptRequest r) { Prompts.Add(r.Prompt); return Task.FromResult(_answers.Dequeue()()); }
        }

        private static Func<SendResult> Says(string message, int attempts = 1) => () => SendResult.Ended(Answer(message), attempts, TimeSpan.FromMilliseconds(10));

        private static JsonAnswerStage Stage(int maxReasks) => new JsonAnswerStage(ResponseSchema.Parse(TicketSchema), maxReasks);

        [Fact]
        public async Task An_invalid_answer_is_asked_again_and_the_valid_reanswer_is_the_row_s_answer()
        {
            var send = new ScriptedSend(Says("{'category': 'Hardware'}", attempts: 2), Says("{\"category\":\"Hardware\",\"priority\":3}"));
            var staged = await Stage(1).SendAsync(new PromptRequest("Classify: printer", "app", null), send.Send);
            Assert.True(staged.Sent.Outcome.IsSuccess);
            Assert.Equal(1, staged.Reasks);
            Assert.Equal(3, staged.Sent.Attempts); // a retry of the prompt and the re-ask: all in Attempts
            Assert.Equal(AnswerSource.Whole, staged.Answer.Source);
            Assert.Equal(2, send.Prompts.Count);
            Assert.StartsWith(ReaskPrompt.Opening + " What was wrong: the answer is not valid JSON", send.Prompts[1]);
        }

        [Fact]
        public async Task When_the_reasks_run_out_the_row_is_AnswerNotValid_with_the_raw_message_and_the_reasons()
        {
            var send = new ScriptedSend(Says("{\"category\":\"Printers\",\"priority\":7}"), Says("Still {\"category\":\"Printers\",\"priority\":7}"));
            var staged = await Stage(1).SendAsync(new PromptRequest("Classify", "app", null), send.Send);
            var outcome = staged.Sent.Outcome;
            Assert.Equal(ErrorIds.AnswerNotValid, outcome.ErrorId);
            Assert.Equal("Still {\"category\":\"Printers\",\"priority\":7}", outcome.Message);
            Assert.Equal("The answer is not usable JSON for the schema after 1 re-ask: category: 'Printers' is not one of Hardware, Software, Access; priority: 7 is above the maximum 5.", outcome.ErrorMessage);
            Assert.Equal(2, staged.Sent.Attempts);
        }

        [Fact]
        public async Task MaxReasks_0_never_reasks_and_a_reask_refused_by_a_stop_keeps_the_paid_answer()
        {
            var once = new ScriptedSend(Says("no json"));
            Assert.Equal(ErrorIds.AnswerNotValid, (await Stage(0).SendAsync(new PromptRequest("p", "a", null), once.Send)).Sent.Outcome.ErrorId);
            Assert.Single(once.Prompts);

            var stopped = new ScriptedSend(Says("no json"), () => SendResult.Refused(0, TimeSpan.Zero));
            var staged = await Stage(3).SendAsync(new PromptRequest("p", "a", null), stopped.Send);
            Assert.Equal(ErrorIds.AnswerNotValid, staged.Sent.Outcome.ErrorId);
            Assert.Equal("no json", staged.Sent.Outcome.Message);
            Assert.Contains("the re-ask was not sent", staged.Sent.Outcome.ErrorMessage);
            Assert.Equal(0, staged.Reasks);
        }

        [Fact]
        public void A_journaled_answer_is_judged_by_the_current_schema()
        {
            var stage = Stage(1);
            var valid = new Response { Success = true, Message = "```json\n{\"category\":\"Access\",\"priority\":2}\n```", Attempts = 1 };
            var reused = stage.Reuse(valid);
            Assert.True(reused.Success);
            Assert.Equal("Fenced", reused.AnswerFrom);
            Assert.Equal("Access", reused.AnswerFields.Single(f => f.Key == "category").Value);

            var strict = new JsonAnswerStage(ResponseSchema.Parse(TicketSchema.Replace("\"maximum\": 5", "\"maximum\": 1")), 1);
            Assert.Null(strict.Reuse(valid)); // fails the current schema: asked again

            var givenUp = new Response { Success = false, ErrorId = ErrorIds.AnswerNotValid, Message = "no json", AnswerSchema = stage.Reuse(valid).AnswerSchema, Reasks = 1 };
            Assert.Equal(ErrorIds.AnswerNotValid, stage.Reuse(givenUp).ErrorId);  // same schema, re-asks spent: not paid again
            Assert.Null(Stage(2).Reuse(givenUp));                                  // more re-asks allowed now: asked again
            Assert.Null(strict.Reuse(givenUp));                                    // another schema: asked again
            Assert.True(TextAnswerStage.Instance.Reuse(givenUp).Success);          // as text, the paid answer stands
            Assert.Null(stage.Reuse(new Response { Success = false, ErrorId = ErrorIds.ServerError }));
        }

        // ---- columns ----

        [Fact]
        public void Columns_are_named_as_PowerShell_writes_them_and_nested_values_are_compact_JSON()
        {
            Assert.Equal("Category", AnswerColumns.ColumnName("category"));
            Assert.Equal(3L, AnswerColumns.Cell(3.0));
            Assert.Equal(2.5, AnswerColumns.Cell(2.5));
            Assert.Equal("[\"a\",{\"b\":null}]", AnswerColumns.Cell(CalStudio.Client.Json.Parse("[ \"a\", { \"b\" : null } ]")));
            Assert.Equal("2026-01-15", AnswerColumns.Cell("2026-01-15"));
        }

        [Fact]
        public void Each_answer_shape_registers_one_type_whose_display_set_is_its_columns_and_a_refused_registration_falls_back_to_the_object()
        {
            var defined = new List<string>();
            bool allow = true;
            var columns = new AnswerColumns((type, shown) => { defined.Add(type + "=" + string.Join(",", shown)); return allow; });
            PSObject Row(params string[] keys)
            {
                var output = new PSObject(new Response());
                columns.Add(output, new Response { AnswerFields = keys.Select(k => new KeyValuePair<string, object>(k, "v")).ToList() }, n => false);
                return output;
            }
            var first = Row("category", "priority");
            Row("category", "priority");
            var other = Row("category");
            Row("category", "priority"); // an earlier shape again: already registered
            Assert.Equal(new[]
            {
                AnswerColumns.TypeName + "#RowNumber,Category,Priority,AnswerFrom=RowNumber,Category,Priority,AnswerFrom",
                AnswerColumns.TypeName + "#RowNumber,Category,AnswerFrom=RowNumber,Category,AnswerFrom",
            }, defined);
            Assert.Equal(new[] { AnswerColumns.TypeName + "#RowNumber,Category,Priority,AnswerFrom" }, first.TypeNames);
            Assert.Null(first.Members["PSStandardMembers"]); // the type carries the display set, not each object
            Assert.Equal(new[] { AnswerColumns.TypeName + "#RowNumber,Category,AnswerFrom" }, other.TypeNames);

            allow = false;
            var unregistered = Row("summary");
            Assert.Equal(new[] { AnswerColumns.TypeName }, unregistered.TypeNames);
            var set = (PSPropertySet)((PSMemberSet)unregistered.Members["PSStandardMembers"]).Members["DefaultDisplayPropertySet"];
            Assert.Equal(new[] { "RowNumber", "Summary", "AnswerFrom" }, set.ReferencedPropertyNames);
        }

        [Fact]
        public void A_comma_in_an_answers_name_makes_a_type_of_its_own_not_the_type_of_two_names()
        {
            Assert.NotEqual(AnswerColumns.ShapeTypeName(new[] { "RowNumber", "A,b", "AnswerFrom" }), AnswerColumns.ShapeTypeName(new[] { "RowNumber", "A", "b", "AnswerFrom" }));
            Assert.NotEqual(AnswerColumns.ShapeTypeName(new[] { "A\\", "b" }), AnswerColumns.ShapeTypeName(new[] { "A\\,b" }));
            Assert.Equal(AnswerColumns.TypeName + "#RowNumber,A\\,b,AnswerFrom", AnswerColumns.ShapeTypeName(new[] { "RowNumber", "A,b", "AnswerFrom" }));
        }

        [Fact]
        public void A_name_taken_by_a_column_or_a_response_property_is_kept_as_Answer_Name_with_one_warning()
        {
            var columns = new AnswerColumns();
            string warning = null;
            for (int i = 0; i < 2; i++)
            {
                var output = new PSObject(new Response { Key = "k" });
                output.Properties.Add(new PSNoteProperty("Priority", "user's"));
                var response = new Response { AnswerFields = new List<KeyValuePair<string, object>> { new KeyValuePair<string, object>("priority", 3.0), new KeyValuePair<string, object>("message", "m"), new KeyValuePair<string, object>("category", "Access") } };
                columns.Add(output, response, n => output.Properties[n] != null);
                Assert.Equal("user's", output.Properties["Priority"].Value);
                Assert.Equal(3L, output.Properties["Answer_Priority"].Value);
                Assert.Equal("m", output.Properties["Answer_Message"].Value);
                Assert.Equal("Access", output.Properties["Category"].Value);
                string taken = columns.TakeRenameWarning();
                if (i == 0) warning = taken; else Assert.Null(taken);
            }
            Assert.Contains("Priority, Message", warning);
            Assert.Contains("Answer_Priority, Answer_Message", warning);
        }
    }
}
