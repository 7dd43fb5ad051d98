% Text
% Dora has never married and runs a shop. In 2017 her father Ed worked there and she paid him
% $15000 in cash on December 29th; Carl worked there from March 1st to December 29th, 2017 and she
% paid him $6000 in cash on December 29th. Ed has no other income. Dora was paid $60000 in 2017
% and takes the standard deduction.
% By hand: Ed's service in the employ of his daughter is not employment (§3306(c)(5)), so his pay
% is not wages; Carl's $6,000 is: Dora is an employer (§3306(a)(1)(A)), excise tax 6% of $6,000
% = $360. Ed has income ($15,000): not her qualifying relative. $60,000 - $3,000 - $2,000 =
% $55,000: §1(c)(iii), $12,107 + 31% of $1,500 = $12,572. Total $12,932.

% Question
% How much tax does dora have to pay in 2017? $12932

% Facts
:- [statutes/prolog/init].
business_(doras_shop).
agent_(doras_shop,dora).
father_(ed_is_doras_father).
agent_(ed_is_doras_father,ed).
patient_(ed_is_doras_father,dora).
service_(ed_works).
agent_(ed_works,ed).
patient_(ed_works,dora).
location_(ed_works,doras_shop).
start_(ed_works,"2017-01-02").
end_(ed_works,"2017-12-29").
payment_(dora_pays_ed).
agent_(dora_pays_ed,dora).
patient_(dora_pays_ed,ed).
purpose_(dora_pays_ed,ed_works).
means_(dora_pays_ed,"cash").
amount_(dora_pays_ed,15000).
start_(dora_pays_ed,"2017-12-29").
service_(carl_works).
agent_(carl_works,carl).
patient_(carl_works,dora).
location_(carl_works,doras_shop).
start_(carl_works,"2017-03-01").
end_(carl_works,"2017-12-29").
payment_(dora_pays_carl).
agent_(dora_pays_carl,dora).
patient_(dora_pays_carl,carl).
purpose_(dora_pays_carl,carl_works).
means_(dora_pays_carl,"cash").
amount_(dora_pays_carl,6000).
start_(dora_pays_carl,"2017-12-29").
payment_(dora_paid).
patient_(dora_paid,dora).
amount_(dora_paid,60000).
start_(dora_paid,"2017-12-31").

% Test
:- tax(dora,2017,12932).
:- halt.
