% Text
% Rosalind owns an apple orchard and has never been married. In the picking season she hired
% three pickers: Teo worked in the orchard from October 2nd to October 6th, 2017, and so did
% Ugo and Vlad. Each of them received $5,500 in cash from Rosalind on October 6th, 2017. The
% fruit wholesaler paid Rosalind $100,000 for her 2017 crop on December 15th, 2017. She does
% not itemize.
% (The pickers' work is stated with the ontology's agricultural service type, not in words:
% Teo's service is typed only agricultural_service_, Ugo's and Vlad's both service_ and
% agricultural_service_.)
% By hand: the picking is agricultural labor. Cash remuneration for it in 2017 is $16,500 (none
% in 2016), under the $20,000 of §3306(c)(1)(A)(i), and no more than 3 individuals ever worked
% on a day, under the 5 of (A)(ii): the labor is excepted from employment (§3306(c)(1)), so no
% wages and no §3301 tax. Income tax: $100,000 - $3,000 (§63(c)(2)(C)) - $2,000 (§151(d)) =
% $95,000; §1(c)(iii): $12,107 + 31% of ($95,000 - $53,500) = $24,972.
% Before agricultural_service_ was read as agricultural labor, Ugo's and Vlad's picking was
% "other" service: $11,000 of wages, $660 of excise tax, $25,632 in all.

% Question
% What is Rosalind's total tax liability for 2017? $24972

% Facts
:- [statutes/prolog/init].
payment_(wholesaler_buys_crop).
patient_(wholesaler_buys_crop,rosalind).
agent_(wholesaler_buys_crop,fruit_wholesaler).
start_(wholesaler_buys_crop,"2017-12-15").
amount_(wholesaler_buys_crop,100000).
agricultural_service_(teo_picks).
agent_(teo_picks,teo).
patient_(teo_picks,rosalind).
start_(teo_picks,"2017-10-02").
end_(teo_picks,"2017-10-06").
service_(ugo_picks).
agricultural_service_(ugo_picks).
agent_(ugo_picks,ugo).
patient_(ugo_picks,rosalind).
start_(ugo_picks,"2017-10-02").
end_(ugo_picks,"2017-10-06").
service_(vlad_picks).
agricultural_service_(vlad_picks).
agent_(vlad_picks,vlad).
patient_(vlad_picks,rosalind).
start_(vlad_picks,"2017-10-02").
end_(vlad_picks,"2017-10-06").
payment_(pay_teo).
agent_(pay_teo,rosalind).
patient_(pay_teo,teo).
purpose_(pay_teo,teo_picks).
means_(pay_teo,"cash").
amount_(pay_teo,5500).
start_(pay_teo,"2017-10-06").
payment_(pay_ugo).
agent_(pay_ugo,rosalind).
patient_(pay_ugo,ugo).
purpose_(pay_ugo,ugo_picks).
means_(pay_ugo,"cash").
amount_(pay_ugo,5500).
start_(pay_ugo,"2017-10-06").
payment_(pay_vlad).
agent_(pay_vlad,rosalind).
patient_(pay_vlad,vlad).
purpose_(pay_vlad,vlad_picks).
means_(pay_vlad,"cash").
amount_(pay_vlad,5500).
start_(pay_vlad,"2017-10-06").

% Test
:- tax(rosalind,2017,24972).
:- halt.
